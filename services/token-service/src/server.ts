// First: starts OpenTelemetry before anything loads node:http, when OTEL_TRACES_EXPORTER asks for it (docs/operations.md §13).
import '@todo-auth/observability/tracing'
import { loadConfigOrExit } from '@todo-auth/service-config'
import { buildApp } from './app.ts'
import { loadConfig } from './config.ts'

// Process entry: env → loadConfig → buildApp → listen; graceful close on SIGTERM/SIGINT.
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

let closing = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down')
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while closing')
        process.exit(1)
      },
    )
  })
}
