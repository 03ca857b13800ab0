// First: starts OpenTelemetry before anything loads node:http, when OTEL_TRACES_EXPORTER asks for it (docs/operations.md §13).
import '@todo-auth/observability/tracing'
import type { AddressInfo } from 'node:net'
import { gracefulShutdown, loadConfigOrExit } from '@todo-auth/service-config'
import { loadConfig } from './config.ts'
import { IdentityStartupError } from './errors.ts'

/** Start-up failures go out as one JSON line on stderr, before (or instead of) the app's logger. */
function fail(event: string, message: string, extra: Record<string, unknown> = {}): never {
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), event, msg: message, ...extra })}\n`)
  process.exit(1)
}

const config = loadConfigOrExit('identity', () => loadConfig(process.env))

// Imported after the configuration is known good, so a bad one fails without loading BetterAuth.
const { buildApp } = await import('./app.ts')

let app
try {
  app = await buildApp(config)
} catch (error) {
  if (error instanceof IdentityStartupError) fail(error.code === 'IDENTITY_DB_UNREACHABLE' ? 'database_unreachable' : 'startup_failed', error.message, { code: error.code })
  fail('startup_failed', `start-up failed: ${(error as Error).message}`)
}

try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  await app.close()
  fail('listen_failed', `cannot listen on ${config.host}:${config.port}: ${(error as { code?: string }).code ?? (error as Error).message}`)
}
const address = app.server.address() as AddressInfo
const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
const listening = { event: 'listening', listener: 'public', url: `http://${host}:${address.port}` }
// Supervisors and tests wait for this line, so it is written even when LOG_LEVEL hides info.
if (['trace', 'debug', 'info'].includes(config.logLevel)) app.log.info(listening, 'listening')
else process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), ...listening, msg: 'listening' })}\n`)

const json = (body: object) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) })
gracefulShutdown({
  servers: [app.server],
  close: () => app.close(),
  drainMs: config.shutdownDrainMs,
  log: app.log,
  // /readyz's own 503 shape, and the { code, message } of identity's errors (errors.ts).
  unavailable: (phase) => (phase === 'draining' ? json({ status: 'unavailable' }) : json({ code: 'SHUTTING_DOWN', message: 'This instance is shutting down; try again' })),
})
