// First: starts OpenTelemetry before anything loads node:http, when OTEL_TRACES_EXPORTER asks for it (docs/operations.md §13).
import '@todo-auth/observability/tracing'
import { gracefulShutdown, loadConfigOrExit } from '@todo-auth/service-config'
import { buildApp } from './app.ts'
import { loadConfig } from './config.ts'

// Process entry: env → loadConfig → buildApp → listen; on SIGTERM/SIGINT not ready, drain, close (SHUTDOWN_DRAIN).
const config = loadConfigOrExit('token-service', () => loadConfig(process.env))

const service = await buildApp(config)
const log = service.publicApp.log

async function listen(app: typeof service.publicApp, host: string, port: number, listener: string): Promise<void> {
  try {
    await app.listen({ host, port, listenTextResolver: (address) => `${listener} listener at ${address}` })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    log.fatal({ listener, host, port, code }, code === 'EADDRINUSE' ? `port ${port} is already in use` : 'cannot listen')
    await service.close().catch(() => undefined)
    process.exit(1)
  }
  const address = app.server.address()
  const boundPort = typeof address === 'object' && address ? address.port : port
  const shownHost = host.includes(':') ? `[${host}]` : host
  // Written whatever LOG_LEVEL is: supervisors and tests wait for this line (a URL, no secret).
  process.stdout.write(`${JSON.stringify({ event: 'listening', listener, url: `http://${shownHost}:${boundPort}` })}\n`)
}

await listen(service.publicApp, config.HOST, config.PORT, 'public')
if (service.adminApp) await listen(service.adminApp, config.ADMIN_HOST, config.ADMIN_PORT, 'admin')
else log.warn('ADMIN_TOKEN is not set: the admin listener is off')

const json = (body: object) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) })
gracefulShutdown({
  servers: [service.publicApp.server, ...(service.adminApp ? [service.adminApp.server] : [])],
  close: () => service.close(),
  drainMs: config.SHUTDOWN_DRAIN * 1000,
  log,
  // The shapes of /readyz and of the error handler's 503s (error-handler.ts).
  unavailable: (phase, path) =>
    phase === 'draining'
      ? json({ ready: false, checks: { shutdown: false } })
      : path.startsWith('/oauth/')
        ? json({ error: 'temporarily_unavailable', error_description: 'this instance is shutting down; try again' })
        : json({ code: 'SHUTTING_DOWN', message: 'this instance is shutting down; try again' }),
})
