import { resolve } from 'node:path'
import type { DevSecrets } from './dev-secrets.ts'

export const repoRoot = resolve(import.meta.dirname, '../..')

/** SPEC §1 ports; each can be moved with its variable (tests run a second stack beside a developer's). */
export const defaultPorts = {
  identity: 3001,
  tokenService: 3002,
  tokenServiceAdmin: 3102,
  todoApi: 3003,
  gateway: 8080,
} as const
export type PortName = keyof typeof defaultPorts

export const portVariables: Readonly<Record<PortName, string>> = {
  identity: 'IDENTITY_PORT',
  tokenService: 'TOKEN_SERVICE_PORT',
  tokenServiceAdmin: 'TOKEN_SERVICE_ADMIN_PORT',
  todoApi: 'TODO_API_PORT',
  gateway: 'GATEWAY_PORT',
}

export type GatewayKind = 'nginx' | 'node'

export interface StackSettings {
  ports: Record<PortName, number>
  dataDir: string
  gateway: GatewayKind
  /** Passed through from the caller's environment when set. */
  redisUrl: string | undefined
  identityDatabaseUrl: string | undefined
  todoApiDatabaseUrl: string | undefined
  cookieSecure: string | undefined
}

export interface Component {
  name: 'identity' | 'token-service' | 'todo-api' | 'gateway'
  entry: string
  env: Record<string, string | undefined>
  /** Listener names it reports before it counts as started. */
  listeners: string[]
  /** Ports it binds, for the "port in use" message. */
  ports: PortName[]
}

export function readStackSettings(env: Record<string, string | undefined>, nginxAvailable: boolean): { settings: StackSettings; problems: string[] } {
  const problems: string[] = []
  const ports = {} as Record<PortName, number>
  for (const [name, variable] of Object.entries(portVariables) as [PortName, string][]) {
    const raw = env[variable]
    const port = raw === undefined || raw === '' ? defaultPorts[name] : Number(raw)
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${variable} must be a port number from 1 to 65535`)
    ports[name] = port
  }
  if (new Set(Object.values(ports)).size !== Object.keys(ports).length) problems.push('the five ports must differ')
  const requested = env.GATEWAY ?? (nginxAvailable ? 'nginx' : 'node')
  if (requested !== 'nginx' && requested !== 'node') problems.push('GATEWAY must be nginx or node')
  if (requested === 'nginx' && !nginxAvailable) problems.push('GATEWAY=nginx but no nginx binary was found (apt-get install nginx, or GATEWAY=node)')
  return {
    problems,
    settings: {
      ports,
      dataDir: resolve(env.START_DATA_DIR ?? resolve(repoRoot, '.data')),
      gateway: requested === 'nginx' ? 'nginx' : 'node',
      redisUrl: env.REDIS_URL || undefined,
      identityDatabaseUrl: env.IDENTITY_DATABASE_URL || env.DATABASE_URL || undefined,
      todoApiDatabaseUrl: env.TODO_API_DATABASE_URL || env.DATABASE_URL || undefined,
      cookieSecure: env.COOKIE_SECURE || undefined,
    },
  }
}

/** The public origin browsers use: the gateway (DEFAULTS: http://localhost:8080). */
export function publicOrigin(settings: StackSettings): string {
  return `http://localhost:${settings.ports.gateway}`
}

/**
 * Every component of the local stack and its environment, derived from the
 * ports so that issuers, audiences, JWKS URLs and allowed origins agree.
 * `undefined` removes a variable the caller's shell may have set.
 */
export function stackComponents(settings: StackSettings, secrets: DevSecrets): Component[] {
  const { ports, dataDir } = settings
  const origin = publicOrigin(settings)
  const browserOrigins = `${origin},http://127.0.0.1:${ports.gateway}`
  const loopback = (port: number) => `127.0.0.1:${port}`
  return [
    {
      name: 'identity',
      entry: resolve(repoRoot, 'services/identity/src/server.ts'),
      listeners: ['public'],
      ports: ['identity'],
      env: {
        HOST: '127.0.0.1',
        PORT: String(ports.identity),
        BETTER_AUTH_SECRET: secrets.betterAuthSecret,
        BETTER_AUTH_URL: origin,
        JWT_ISSUER: `${origin}/api/auth`,
        JWT_AUDIENCE: 'token-service',
        JWT_ALG: 'EdDSA',
        TRUSTED_ORIGINS: browserOrigins,
        TRUST_PROXY: '127.0.0.1',
        DATABASE_URL: settings.identityDatabaseUrl,
        PGLITE_DATA_DIR: settings.identityDatabaseUrl ? undefined : resolve(dataDir, 'identity-pglite'),
        // Bans, deletions and password changes end the user's token-service sessions (docs/sessions.md).
        TOKEN_SERVICE_ADMIN_URL: `http://${loopback(ports.tokenServiceAdmin)}`,
        TOKEN_SERVICE_ADMIN_TOKEN: secrets.adminToken,
      },
    },
    {
      name: 'token-service',
      entry: resolve(repoRoot, 'services/token-service/src/server.ts'),
      listeners: ['public', 'admin'],
      ports: ['tokenService', 'tokenServiceAdmin'],
      env: {
        DEPLOYMENT_MODE: 'development',
        HOST: '127.0.0.1',
        PORT: String(ports.tokenService),
        ADMIN_HOST: '127.0.0.1',
        ADMIN_PORT: String(ports.tokenServiceAdmin),
        ADMIN_TOKEN: secrets.adminToken,
        ISSUER: origin,
        WEB_ALLOWED_ORIGINS: browserOrigins,
        TRUST_PROXY: '127.0.0.1',
        BETTER_AUTH_JWKS_URL: `http://${loopback(ports.identity)}/api/auth/jwks`,
        BETTER_AUTH_ISSUER: `${origin}/api/auth`,
        BETTER_AUTH_AUDIENCE: 'token-service',
        BETTER_AUTH_ALGORITHMS: 'EdDSA',
        REDIS_URL: settings.redisUrl,
        KEY_ENCRYPTION_KEY: secrets.keyEncryptionKey,
        COOKIE_SECURE: settings.cookieSecure,
      },
    },
    {
      name: 'todo-api',
      entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
      listeners: ['public'],
      ports: ['todoApi'],
      env: {
        HOST: '127.0.0.1',
        PORT: String(ports.todoApi),
        TOKEN_SERVICE_JWKS_URL: `http://${loopback(ports.tokenService)}/.well-known/jwks.json`,
        TOKEN_ISSUER: origin,
        TOKEN_AUDIENCE: 'todo-api',
        TRUST_PROXY: '127.0.0.1',
        DATABASE_URL: settings.todoApiDatabaseUrl,
        PGLITE_DATA_DIR: settings.todoApiDatabaseUrl ? undefined : resolve(dataDir, 'todo-api-pglite'),
      },
    },
    {
      name: 'gateway',
      entry: resolve(repoRoot, settings.gateway === 'nginx' ? 'infra/gateway/nginx.server.ts' : 'infra/gateway/dev-gateway.server.ts'),
      listeners: ['public'],
      ports: ['gateway'],
      env: {
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(ports.gateway),
        IDENTITY_UPSTREAM: loopback(ports.identity),
        TOKEN_SERVICE_UPSTREAM: loopback(ports.tokenService),
        TODO_API_UPSTREAM: loopback(ports.todoApi),
        WEB_ROOT: resolve(repoRoot, 'web'),
      },
    },
  ]
}
