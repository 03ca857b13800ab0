import { sql, type DatabaseIntrospector, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely'
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
  const schema = rows[0]!.schema
  const migrator = new Migrator({ db: withOwnSchemaIntrospection(db, schema), provider: { getMigrations: async () => migrations }, migrationTableSchema: schema })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return results
}

/**
 * `db`, but its `introspection` reads the catalog of one schema only. Kysely's PostgreSQL introspector
 * calls has_schema_privilege(name) on every schema of the database: a schema another client drops
 * meanwhile fails that whole query with "schema … does not exist" (seen with test schemas dropped in
 * parallel), and it reads every other schema's columns for nothing. Everything else is `db`'s own.
 */
function withOwnSchemaIntrospection(db: Kysely<any>, schema: string): Kysely<any> {
  const introspection = new OwnSchemaIntrospector(db, schema)
  return new Proxy(db, {
    get(target, key) {
      if (key === 'introspection') return introspection
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

interface ColumnRow {
  table: string
  kind: string
  column: string
  type: string
  type_schema: string
  not_null: boolean
  has_default: boolean
  auto_increment: boolean
  comment: string | null
}

/** What the Migrator asks (does the schema exist, which tables are in it), answered from `schema` alone. */
class OwnSchemaIntrospector implements DatabaseIntrospector {
  private readonly db: Kysely<any>
  private readonly schema: string

  constructor(db: Kysely<any>, schema: string) {
    this.db = db
    this.schema = schema
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(this.db)
    return rows
  }

  async getTables(): Promise<TableMetadata[]> {
    // Functions in the select list run only on the rows the where clause kept: this schema's.
    const { rows } = await sql<ColumnRow>`
      select c.relname as table, c.relkind as kind, a.attname as column, t.typname as type, tn.nspname as type_schema,
        a.attnotnull as not_null, a.atthasdef as has_default, (a.attidentity <> '' or pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) is not null) as auto_increment, col_description(c.oid, a.attnum) as comment
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      join pg_catalog.pg_type t on t.oid = a.atttypid
      join pg_catalog.pg_namespace tn on tn.oid = t.typnamespace
      where n.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p', 'f')
      order by c.relname, a.attnum`.execute(this.db)
    const tables = new Map<string, TableMetadata>()
    for (const row of rows) {
      let table = tables.get(row.table)
      if (!table) {
        table = { name: row.table, schema: this.schema, isView: row.kind === 'v', isForeign: row.kind === 'f', columns: [] }
        tables.set(row.table, table)
      }
      table.columns.push({
        name: row.column,
        dataType: row.type,
        dataTypeSchema: row.type_schema,
        isNullable: !row.not_null,
        hasDefaultValue: row.has_default,
        isAutoIncrementing: row.auto_increment,
        comment: row.comment ?? undefined,
      })
    }
    return [...tables.values()]
  }

  async getMetadata(): Promise<{ tables: TableMetadata[] }> {
    return { tables: await this.getTables() }
  }
}
