import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { DatabaseConfig } from './config.ts'
import { IdentityStartupError } from './errors.ts'

/** BetterAuth's tables are created by its own migrations; this service never types them. */
export type AuthDb = Kysely<any>

export interface IdentityDatabase {
  readonly kind: DatabaseConfig['kind']
  readonly db: AuthDb
  /** Where the data lives, for messages: host, port and database, never credentials. */
  readonly target: string
  /** Resolves when a trivial query succeeds; throws otherwise. */
  ping(): Promise<void>
  /** Runs fn under a lock shared by every instance on this database and schema. */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface DatabaseHooks {
  /** An idle pooled connection failed (pg emits it on the pool; unhandled it would kill the process). */
  onIdleError(error: Error): void
}

/**
 * Opens the configured database and proves it answers. With DATABASE_URL an
 * unreachable server is an IdentityStartupError: there is never a silent
 * fallback to the embedded PGlite.
 */
export async function openDatabase(config: DatabaseConfig, hooks: DatabaseHooks): Promise<IdentityDatabase> {
  const database = config.kind === 'postgres' ? openPostgres(config.url, hooks) : await openPglite(config.dataDir)
  try {
    await database.ping()
  } catch (error) {
    await database.close().catch(() => {})
    const reason = (error as { code?: string }).code ?? (error as Error).message
    throw new IdentityStartupError('IDENTITY_DB_UNREACHABLE', `cannot reach the ${database.kind === 'postgres' ? 'PostgreSQL server of DATABASE_URL' : 'embedded PGlite'} at ${database.target}: ${reason}`, { cause: error })
  }
  return database
}

function openPostgres(url: string, hooks: DatabaseHooks): IdentityDatabase {
  // connectionTimeoutMillis: pg waits forever by default, so a black-holed host would hang the start.
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000, max: 10 })
  pool.on('error', hooks.onIdleError)
  const db: AuthDb = new Kysely({ dialect: new PostgresDialect({ pool }) })
  const parsed = new URL(url)
  return {
    kind: 'postgres',
    db,
    target: `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`,
    async ping() {
      await sql`select 1`.execute(db)
    },
    async withStartupLock(fn) {
      // Session-level advisory lock on one pooled connection while fn works on others:
      // instances starting together migrate and create the first signing key one at a time.
      return db.connection().execute(async (connection) => {
        await sql`select pg_advisory_lock(hashtext(current_schema() || ':identity-startup'))`.execute(connection)
        try {
          return await fn()
        } finally {
          await sql`select pg_advisory_unlock(hashtext(current_schema() || ':identity-startup'))`.execute(connection)
        }
      })
    },
    async close() {
      await db.destroy()
    },
  }
}

async function openPglite(dataDir: string | undefined): Promise<IdentityDatabase> {
  // Loaded only when used: the WebAssembly build is not needed with DATABASE_URL.
  const { PGlite } = await import('@electric-sql/pglite')
  const pglite = new PGlite(dataDir ?? 'memory://')
  const db: AuthDb = new Kysely({ dialect: new PGliteDialect({ pglite }) })
  return {
    kind: 'pglite',
    db,
    target: dataDir ?? 'memory://',
    async ping() {
      await sql`select 1`.execute(db)
    },
    // One process owns a PGlite data directory, so there is nobody to race with.
    withStartupLock: (fn) => fn(),
    async close() {
      await db.destroy()
    },
  }
}
