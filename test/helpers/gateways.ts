import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { freePort, spawnService, type SpawnedService } from '@todo-auth/testkit'

/** nginx cannot listen on port 0 and report the port: tests pick one (testkit's freePort). */
export { freePort }

export const repoRoot = resolve(import.meta.dirname, '../..')
export const gatewayEntries = {
  nginx: resolve(repoRoot, 'infra/gateway/nginx.server.ts'),
  node: resolve(repoRoot, 'infra/gateway/dev-gateway.server.ts'),
} as const
export type GatewayKind = keyof typeof gatewayEntries
export const gatewayKinds = Object.keys(gatewayEntries) as GatewayKind[]

/** Where Debian's nginx lives, if installed (CI installs it; see .ci/run). */
export function nginxBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin'])) {
    const candidate = resolve(dir || '.', 'nginx')
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

export interface GatewayUpstreams {
  identity: string
  'token-service': string
  'todo-api': string
}

/** Starts one gateway (nginx through nginx.server.ts, or the Node one) on a free port, in front of `upstreams` (host:port). */
export async function startGateway(kind: GatewayKind, upstreams: GatewayUpstreams, env: Record<string, string> = {}): Promise<SpawnedService> {
  let lastError: unknown
  // A free port can be taken between the probe and nginx's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await spawnService({
        entry: gatewayEntries[kind],
        env: {
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(await freePort()),
          IDENTITY_UPSTREAM: upstreams.identity,
          TOKEN_SERVICE_UPSTREAM: upstreams['token-service'],
          TODO_API_UPSTREAM: upstreams['todo-api'],
          ...env,
        },
        timeoutMs: 20_000,
      })
    } catch (error) {
      lastError = error
      if (!/already in use/.test(String(error))) throw error
    }
  }
  throw lastError
}

/** `host:port` of a listener URL such as http://127.0.0.1:41234. */
export function hostPort(url: string): string {
  return new URL(url).host
}
