import { Writable } from 'node:stream'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createTestSchema } from '@todo-auth/testkit'
import type { KeyResolver, RemoteKeySet } from '@todo-auth/token-verifier'
// The consumer under test is todo-api itself: its real app, configuration and
// database code, pointed at the pact mock server (or at a key set) instead of
// token-service. Test code only; no service imports another's source.
import { buildApp } from '../../../services/todo-api/src/app.ts'
import { loadConfig, type TodoApiConfig } from '../../../services/todo-api/src/config.ts'

export { loadConfig }
import { openDatabase } from '../../../services/todo-api/src/db/database.ts'
import { migrateToLatest } from '../../../services/todo-api/src/db/migrate.ts'

export interface TodoApiUnderTest {
  app: FastifyInstance
  config: TodoApiConfig
}

/**
 * todo-api built in-process on its own PostgreSQL schema, configured from the
 * environment variables it reads in production (`env`), with an injected clock
 * so the fixed example tokens of the pact are inside their lifetime.
 */
export async function startTodoApi(
  t: Test,
  options: { env?: Record<string, string>; now: () => number; keySet?: RemoteKeySet | KeyResolver },
): Promise<TodoApiUnderTest> {
  const schema = await createTestSchema('t_contract_todo')
  t.teardown(() => schema.drop())
  const config = loadConfig({ DATABASE_URL: schema.url, LOG_LEVEL: 'warn', ...options.env })
  const database = openDatabase(config.database, { onIdleError: () => {} })
  t.teardown(() => database.close())
  await migrateToLatest(database.db)
  const logStream = new Writable({ write: (_chunk, _encoding, callback) => callback() })
  const app = await buildApp(config, { db: database.db, now: options.now, logStream, ...(options.keySet ? { keySet: options.keySet } : {}) })
  t.teardown(() => app.close())
  return { app, config }
}
