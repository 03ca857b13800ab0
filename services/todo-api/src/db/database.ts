import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { DatabaseConfig } from '../config.ts'
import type { Database } from './schema.ts'

export interface TodoDatabase {
  readonly kind: DatabaseConfig['kind']
  readonly db: Kysely<Database>
  /** Where the data lives, for messages: host, port and database (never credentials), or the PGlite directory. */
  readonly target: string
  /** Resolves when a trivial query succeeds. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseHooks {
  /** An idle pooled connection failed (pg emits it on the pool; unhandled it would end the process). */
  onIdleError(error: Error): void
}

/** Opens the configured database (nothing is queried yet). */
export function openDatabase(config: DatabaseConfig, hooks: DatabaseHooks): TodoDatabase {
  if (config.kind === 'postgres') {
    // connectionTimeoutMillis: pg waits forever by default, so a black-holed host would hang start-up and requests.
    const pool = new pg.Pool({ connectionString: config.url, connectionTimeoutMillis: 5000, max: config.poolMax })
    pool.on('error', hooks.onIdleError)
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    const url = new URL(config.url)
    return {
      kind: 'postgres',
      db,
      target: `${url.hostname}:${url.port || '5432'}${url.pathname}`,
      ping: async () => {
        await sql`select 1`.execute(db)
      },
      close: () => db.destroy(),
    }
  }
  // Loaded only when used: PGlite's module is large, and a service on PostgreSQL never needs it.
  const db = new Kysely<Database>({
    dialect: new PGliteDialect({ pglite: async () => (await import('@electric-sql/pglite')).PGlite.create(config.dataDir) }),
  })
  return {
    kind: 'pglite',
    db,
    target: config.dataDir ?? 'memory',
    ping: async () => {
      await sql`select 1`.execute(db)
    },
    close: () => db.destroy(),
  }
}

/** True for errors that mean the database cannot be reached right now (answer 503, not 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return false
  // Class 08 connection exceptions, 57P0x shutdown/crash, 53300 too many connections, and socket errors.
  return /^08/.test(code) || /^57P0/.test(code) || code === '53300' || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(code)
}
