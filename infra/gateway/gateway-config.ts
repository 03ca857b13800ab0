import { isAbsolute, resolve } from 'node:path'
import { upstreamNames, type UpstreamName } from './routes.ts'

/**
 * Settings shared by both gateways (nginx and the Node development one), read
 * from the environment in this one place. docs/deployment.md lists them.
 */
export interface GatewayConfig {
  readonly host: string
  readonly port: number
  /** `host:port` of each service (a compose service name or 127.0.0.1), or several, comma-separated (upstreamServers). */
  readonly upstreams: Readonly<Record<UpstreamName, string>>
  /** Directory of the demo page. */
  readonly webRoot: string
  /** nginx binary (nginx gateway only). */
  readonly nginxBinary: string
  readonly logLevel: 'error' | 'warn' | 'info'
}

export const upstreamVariables: Readonly<Record<UpstreamName, string>> = {
  identity: 'IDENTITY_UPSTREAM',
  'token-service': 'TOKEN_SERVICE_UPSTREAM',
  'todo-api': 'TODO_API_UPSTREAM',
}

const defaultUpstreams: Readonly<Record<UpstreamName, string>> = {
  identity: '127.0.0.1:3001',
  'token-service': '127.0.0.1:3002',
  'todo-api': '127.0.0.1:3003',
}

export const defaultWebRoot = resolve(import.meta.dirname, '../../web')

export class GatewayConfigError extends Error {
  readonly code = 'GATEWAY_CONFIG_INVALID'
  readonly problems: readonly string[]
  constructor(problems: string[]) {
    super(`invalid gateway configuration: ${problems.join('; ')}`)
    this.name = 'GatewayConfigError'
    this.problems = problems
  }
}

// host:port where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
const hostPort = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/

/** The servers of one upstream value: `host:port`, or several `host:port,host:port` the gateway balances over. */
export function upstreamServers(value: string): string[] {
  return value.split(',').map((server) => server.trim())
}

/** Reads and validates every gateway variable; one error lists every problem. */
export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const problems: string[] = []
  const host = env.GATEWAY_HOST ?? '127.0.0.1'
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) problems.push('GATEWAY_HOST must be an address such as 127.0.0.1 or 0.0.0.0')
  const portText = env.GATEWAY_PORT ?? '8080'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) problems.push('GATEWAY_PORT must be an integer from 1 to 65535')
  const upstreams = {} as Record<UpstreamName, string>
  for (const name of upstreamNames) {
    const variable = upstreamVariables[name]
    const value = env[variable] ?? defaultUpstreams[name]
    if (!upstreamServers(value).every((server) => hostPort.test(server))) problems.push(`${variable} must be host:port (or several, comma-separated), such as 127.0.0.1:3001 or identity:3001`)
    upstreams[name] = value
  }
  const webRoot = env.WEB_ROOT ?? defaultWebRoot
  if (!isAbsolute(webRoot)) problems.push('WEB_ROOT must be an absolute path')
  const logLevel = env.GATEWAY_LOG_LEVEL ?? 'warn'
  if (logLevel !== 'error' && logLevel !== 'warn' && logLevel !== 'info') problems.push('GATEWAY_LOG_LEVEL must be error, warn or info')
  if (problems.length > 0) throw new GatewayConfigError(problems)
  return Object.freeze({
    host,
    port,
    upstreams: Object.freeze(upstreams),
    webRoot,
    nginxBinary: env.NGINX_BINARY ?? 'nginx',
    logLevel: logLevel as GatewayConfig['logLevel'],
  })
}
