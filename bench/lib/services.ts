import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createTestRedisPrefix, createTestSchema, spawnService, testRedisUrl } from '@todo-auth/testkit'
import type { BenchIssuer } from './issuer.ts'
import { peakRssMb, runLoad, type LoadResult } from './load.ts'

interface Common {
  root: string
  connections: number
  durationSec: number
}

/** `GET /todos` end to end: todo-api on the machine's PostgreSQL, tokens from the bench issuer. */
export async function todoApiScenario(options: Common & { issuer: BenchIssuer }): Promise<string | (LoadResult & { rssMb: number | null })> {
  const entry = join(options.root, 'services/todo-api/src/server.ts')
  if (!existsSync(entry)) return 'todo-api not built yet: GET /todos not measured'
  const schema = await createTestSchema('bench')
  const service = await spawnService({
    entry,
    env: {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: schema.url,
      TOKEN_SERVICE_JWKS_URL: options.issuer.jwksUrl,
      TOKEN_ISSUER: options.issuer.issuer,
      TOKEN_AUDIENCE: options.issuer.audience,
    },
  })
  try {
    const token = await options.issuer.sign()
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`${service.url}/todos`, { method: 'POST', headers, body: JSON.stringify({ title: `todo ${i}`, order: i }) })
      if (response.status !== 201) return `todo-api refused the bench's POST /todos (${response.status}): not measured`
    }
    const load = () => runLoad({ url: `${service.url}/todos`, connections: options.connections, durationSec: options.durationSec, headers })
    await load()
    const result = await load()
    return { ...result, rssMb: peakRssMb(service.child.pid) }
  } finally {
    await service.stop()
    await schema.drop()
  }
}

interface ServiceRow extends LoadResult {
  name: string
  rssMb: number | null
  target?: string
  met?: boolean
}

/**
 * token-service with real Redis and a real BetterAuth JWT: exchanges/s,
 * refreshes/s (each connection follows its own rotation chain), and p99 at
 * half of the exchange peak.
 */
export async function tokenServiceScenarios(options: Common): Promise<string | ServiceRow[]> {
  const entry = join(options.root, 'services/token-service/src/server.ts')
  const testkit = await import('@todo-auth/testkit')
  const startIdentity = (testkit as Record<string, unknown>).startIdentity as
    | undefined
    | ((o?: object) => Promise<{ issuer: string; audience: string; jwksUrl: string; algorithms: string[]; signUp(): Promise<{ jwt: string }>; close(): Promise<void> }>)
  if (!startIdentity) return 'identity test harness not available yet: token-service not measured'
  const identity = await startIdentity()
  const { prefix, cleanup } = createTestRedisPrefix('bench')
  const service = await spawnService({
    entry,
    env: {
      PORT: '0',
      ADMIN_PORT: '0',
      LOG_LEVEL: 'warn',
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: prefix,
      KEY_ENCRYPTION_KEY: 'a'.repeat(64),
      BETTER_AUTH_JWKS_URL: identity.jwksUrl,
      BETTER_AUTH_ISSUER: identity.issuer,
      BETTER_AUTH_AUDIENCE: identity.audience,
      BETTER_AUTH_ALGORITHMS: identity.algorithms.join(','),
      RATE_LIMIT_MAX: '100000000',
    },
  })
  try {
    const jwts: string[] = []
    for (let i = 0; i < 8; i += 1) jwts.push((await identity.signUp()).jwt)
    const form = 'application/x-www-form-urlencoded'
    let n = 0
    const exchangeBody = () =>
      new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: jwts[n++ % jwts.length]!,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        client_id: 'cli',
      }).toString()
    const url = `${service.url}/oauth/token`
    const exchangeLoad = (overallRate?: number) =>
      runLoad({
        url,
        method: 'POST',
        connections: options.connections,
        durationSec: options.durationSec,
        headers: { 'content-type': form },
        setupRequest: (request) => ({ ...request, body: exchangeBody() }),
        ...(overallRate ? { overallRate } : {}),
      })
    await exchangeLoad()
    const exchange = await exchangeLoad()
    const halfPeak = await exchangeLoad(Math.max(1, Math.floor(exchange.rps / 2)))

    // Seed one refresh token per connection; each connection then follows its own chain.
    const seeds: string[] = []
    for (let i = 0; i < options.connections * 2; i += 1) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': form }, body: exchangeBody() })
      const body = (await response.json()) as { refresh_token?: string }
      if (!body.refresh_token) return `exchange returned no refresh_token (${response.status}): refresh not measured`
      seeds.push(body.refresh_token)
    }
    let seed = 0
    const refresh = await runLoad({
      url,
      method: 'POST',
      connections: options.connections,
      durationSec: options.durationSec,
      headers: { 'content-type': form },
      setupRequest: (request, context) => {
        if (typeof context.rt !== 'string') context.rt = seeds[seed++ % seeds.length]
        return { ...request, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'cli', refresh_token: context.rt as string }).toString() }
      },
      onResponse: (status, body, context) => {
        if (status === 200) context.rt = (JSON.parse(body) as { refresh_token: string }).refresh_token
      },
    })
    const rssMb = peakRssMb(service.child.pid)
    return [
      { name: 'token-service exchange', ...exchange, rssMb, target: '≥ 4000/s', met: exchange.rps >= 4000 },
      { name: 'token-service exchange at half peak (p99)', ...halfPeak, rssMb, target: 'p99 < 10 ms', met: halfPeak.p99 < 10 },
      { name: 'token-service refresh', ...refresh, rssMb, target: '≥ 6000/s, RSS < 150 MB', met: refresh.rps >= 6000 && (rssMb ?? 0) < 150 },
    ]
  } finally {
    await service.stop()
    await identity.close()
    await cleanup()
  }
}
