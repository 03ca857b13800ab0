// Process entry of the Node development gateway (used by scripts/start.ts when
// nginx is not installed): environment → gateway config → listen. Same variables
// and the same {"event":"listening"} line as nginx.server.ts.
import { buildDevGateway } from './dev-gateway.ts'
import { GatewayConfigError, loadGatewayConfig } from './gateway-config.ts'

function fail(event: string, msg: string, extra: Record<string, unknown> = {}): never {
  process.stdout.write(`${JSON.stringify({ level: 60, time: Date.now(), component: 'gateway', event, msg, ...extra })}\n`)
  process.exit(1)
}

let config
try {
  config = loadGatewayConfig(process.env)
} catch (error) {
  if (error instanceof GatewayConfigError) fail('config_invalid', error.message, { problems: error.problems })
  throw error
}

const app = await buildDevGateway(config)
try {
  await app.listen({ host: config.host, port: config.port, listenTextResolver: () => '' })
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code
  await app.close()
  if (code === 'EADDRINUSE') fail('port_in_use', `port ${config.port} on ${config.host} is already in use`)
  fail('listen_failed', `cannot listen on ${config.host}:${config.port}: ${code ?? (error as Error).message}`)
}
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : config.port
const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host
process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), component: 'gateway', event: 'listening', listener: 'public', url: `http://${shownHost}:${port}`, gateway: 'node', msg: 'listening' })}\n`)

let closing = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return
    closing = true
    setTimeout(() => process.exit(1), 10_000).unref()
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
