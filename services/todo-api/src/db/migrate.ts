import type { Kysely } from 'kysely'
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration'
import * as createTodos from './migrations/0001-create-todos.ts'

/** Every migration, in order. Listed explicitly rather than read from disk, so nothing depends on the working directory. */
const migrations: Record<string, Migration> = {
  '0001-create-todos': createTodos,
}

/** Brings the schema to the latest migration; throws the first failure. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet['results']> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results
}
