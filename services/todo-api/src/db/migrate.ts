import { sql, type Kysely } from 'kysely'
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration'
import * as createTodos from './migrations/0001-create-todos.ts'

/** Every migration, in order. Listed explicitly rather than read from disk, so nothing depends on the working directory. */
const migrations: Record<string, Migration> = {
  '0001-create-todos': createTodos,
}

/** Brings the schema to the latest migration; throws the first failure. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet['results']> {
  // Kysely's Migrator looks for its own tables in every schema unless told which one: with another
  // schema of the same database already migrated, it would skip creating them here and then fail.
  // Pin it to the schema the connection works in (search_path), e.g. `public` or a test schema.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: rows[0]!.schema })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results
}
