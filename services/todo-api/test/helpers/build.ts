import { Writable } from 'node:stream'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import { createTestSchema } from '@todo-auth/testkit'
import { createRemoteKeySet, type RemoteKeySet } from '@todo-auth/token-verifier'
import { buildApp, createTokenKeySet } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { openDatabase } from '../../src/db/database.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'
import type { Database } from '../../src/db/schema.ts'
import { generateKey, mint, startJwks, type MintOptions, type TestJwks, type TestKey } from './tokens.ts'

export interface Built {
  app: FastifyInstance
  db: Kysely<Database>
  jwks: TestJwks
  keySet: RemoteKeySet
  key: TestKey
  /** Every log line written so far. */
  logs: string[]
  token(options?: MintOptions): Promise<string>
  /** Authorization header for a user with both scopes (or the given options). */
  auth(options?: MintOptions): Promise<{ authorization: string }>
  /** Rows in the todos table of this test file's schema, every owner included. */
  countTodos(): Promise<number>
}

/**
 * One todo-api per test file: its own PostgreSQL schema (migrated), its own JWKS server and
 * signing key; everything is dropped and closed in teardown.
 */
export async function build(t: Test, env: Record<string, string> = {}, options: { keySetFromConfig?: boolean } = {}): Promise<Built> {
  const schema = await createTestSchema('todo')
  t.teardown(() => schema.drop())
  const key = await generateKey()
  const jwks = await startJwks([key.publicJwk])
  t.teardown(() => jwks.close())
  const config = loadConfig({ DATABASE_URL: schema.url, TOKEN_SERVICE_JWKS_URL: jwks.url, LOG_LEVEL: 'info', ...env })
  const database = openDatabase(config.database, { onIdleError: () => {} })
  t.teardown(() => database.close())
  await migrateToLatest(database.db)
  // keySetFromConfig: the key set the service builds for itself (createTokenKeySet), as in production.
  const keySet = options.keySetFromConfig ? createTokenKeySet(config) : createRemoteKeySet({ url: jwks.url, algorithms: ['ES256'] })
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk))
      callback()
    },
  })
  const app = await buildApp(config, { db: database.db, keySet, logStream })
  t.teardown(() => app.close())
  return {
    app,
    db: database.db,
    jwks,
    keySet,
    key,
    logs,
    token: (options) => mint(key, options),
    auth: async (options) => ({ authorization: `Bearer ${await mint(key, options)}` }),
    countTodos: async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from todos`.execute(database.db)
      return rows[0]!.n
    },
  }
}
