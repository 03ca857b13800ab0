// First: starts OpenTelemetry before anything loads node:http, when OTEL_TRACES_EXPORTER asks for it (docs/operations.md §13).
import '@todo-auth/observability/tracing'
// Process entry: env → loadConfig → database (reachable, migrated) → buildApp → listen; on SIGTERM not ready, drain, close.
import type { FastifyInstance } from 'fastify'
import { gracefulShutdown, loadConfigOrExit } from '@todo-auth/service-config'
import { buildApp, createTokenKeySet } from './app.ts'
import { loadConfig } from './config.ts'
import { createHttpMetrics } from './http/metrics.ts'
import { openDatabase } from './db/database.ts'
import { migrateToLatest } from './db/migrate.ts'

const config = loadConfigOrExit('todo-api', () => loadConfig(process.env))

let app: FastifyInstance | undefined
const database = openDatabase(config.database, {
  onIdleError: (error) => app?.log.warn({ err: error, event: 'database_idle_error' }, 'idle database connection failed'),
})
// The key set reports its fetches and cache hits to the metrics buildApp serves.
const metrics = createHttpMetrics()
const keySet = createTokenKeySet(config, undefined, metrics.onKeySetEvent)
app = await buildApp(config, { db: database.db, keySet, metrics })

try {
  await database.ping()
} catch (error) {
  const reason = (error as { code?: string }).code ?? (error as Error).message
  app.log.fatal({ event: 'startup_failed', reason: 'database_unreachable', target: database.target }, `cannot reach the database (${database.kind}) at ${database.target}: ${reason}`)
  await database.close().catch(() => {})
  process.exit(1)
}
try {
  const results = await migrateToLatest(database.db)
  for (const result of results ?? []) app.log.info({ event: 'migration', migration: result.migrationName, status: result.status }, 'migration')
} catch (error) {
  app.log.fatal({ event: 'startup_failed', reason: 'migration_failed', err: error }, 'database migration failed')
  await database.close().catch(() => {})
  process.exit(1)
}

// Warm the key cache without blocking start-up: token-service may come up after us, and until it
// answers, requests get 503 (never acceptance).
keySet.refresh().catch((error: unknown) => app?.log.warn({ event: 'jwks_warmup_failed', err: error }, 'token-service JWKS not reachable yet'))

const address = await app.listen({ host: config.host, port: config.port })
const url = new URL(address)
const listening = { event: 'listening', listener: 'public', url: `${url.protocol}//${config.host}:${url.port}` }
// The listening line is a contract with operators and tests (packages/testkit spawnService): always written.
if (['fatal', 'error', 'warn', 'silent'].includes(config.logLevel)) process.stdout.write(`${JSON.stringify(listening)}\n`)
else app.log.info(listening, 'listening')

// RFC 9457, like every todo-api error (http/error-handler.ts); /readyz's 503 is a problem too.
const shuttingDown = JSON.stringify({ type: 'urn:todo-auth:problem:shutting-down', title: 'Service Unavailable', status: 503, detail: 'This instance is shutting down; retry.', code: 'ERR_SHUTTING_DOWN' })
gracefulShutdown({
  servers: [app.server],
  close: async () => {
    await app?.close()
    await database.close()
  },
  drainMs: config.shutdownDrainMs,
  log: app.log,
  unavailable: () => ({ contentType: 'application/problem+json; charset=utf-8', body: shuttingDown }),
})
