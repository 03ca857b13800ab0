import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createTestRedisPrefix, createTestSchema, testRedisUrl, repeatedExchangesEnv, spawnService, spawnTokenService, startIdentity, type SpawnedService, type SpawnedTokenService, type TrustedIdentity } from '@todo-auth/testkit'
import { serviceNodeFlags } from '../../scripts/production-flags.ts'
import type { BenchIssuer } from './issuer.ts'
import { runLoad, type LoadResult } from './load.ts'
import { runPaced } from './paced.ts'
import { cpuTimeMs, peakRssMb, serverEnv, serverExecArgv } from './server-process.ts'
import { check } from './targets.ts'

/**
 * How a service is started: as in production (dist/, built by `pnpm build` (tsc), with
 * its serviceNodeFlags), or from its TypeScript sources when BENCH_FROM=src.
 */
export function serviceEntry(root: string, service: 'todo-api' | 'token-service'): { entry: string; execArgv: string[] } {
  if (process.env.BENCH_FROM === 'src') return { entry: join(root, `services/${service}/src/server.ts`), execArgv: serverExecArgv() }
  return { entry: join(root, `services/${service}/dist/server.js`), execArgv: [...serviceNodeFlags[service], ...serverExecArgv()] }
}

interface Common {
  root: string
  connections: number
  durationSec: number
}

/** A load run against a spawned service, with the CPU time (all threads) the service spent per request. */
async function measured<R extends LoadResult>(service: Pick<SpawnedService, 'child'>, load: () => Promise<R>): Promise<R & { cpuUsPerReq: number | null }> {
  const before = cpuTimeMs(service.child.pid)
  const result = await load()
  const after = cpuTimeMs(service.child.pid)
  const cpuUsPerReq = before !== null && after !== null && result.requests > 0 ? ((after - before) * 1000) / result.requests : null
  return { ...result, cpuUsPerReq }
}

/** `GET /todos` end to end: todo-api on the machine's PostgreSQL, tokens from the bench issuer. */
export async function todoApiScenario(options: Common & { issuer: BenchIssuer }): Promise<string | (LoadResult & { rssMb: number | null; cpuUsPerReq: number | null })> {
  const { entry, execArgv } = serviceEntry(options.root, 'todo-api')
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
      ...serverEnv(),
    },
    execArgv,
  })
  try {
    const token = await options.issuer.sign()
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`${service.url}/todos`, { method: 'POST', headers, body: JSON.stringify({ title: `todo ${i}`, order: i }) })
      if (response.status !== 201) return `todo-api refused the bench's POST /todos (${response.status}): not measured`
    }
    const load = { url: `${service.url}/todos`, connections: options.connections, durationSec: options.durationSec, headers: { authorization: headers.authorization } }
    await runLoad({ ...load, durationSec: Math.max(3, Math.ceil(options.durationSec / 2)) })
    const result = await measured(service, () => runLoad(load))
    return { ...result, rssMb: peakRssMb(service.child.pid) }
  } finally {
    await service.stop()
    await schema.drop()
  }
}

interface ServiceRow extends LoadResult {
  name: string
  rssMb: number | null
  cpuUsPerReq: number | null
  target?: string
  met?: boolean
  targetId?: string
  chart?: boolean
  /** The row's req/s as a ratio to the floor server's (bench/servers/token-floor.server.ts), same grant, same run. */
  vsFloor?: number
}

/**
 * The load a token-service takes in the bench: exchanges of real BetterAuth JWTs (8 users, the exchange
 * verifies each Ed25519 signature every time) and refreshes where each connection follows its own rotation
 * chain; either at peak or at a constant `rate` (bench/lib/paced.ts).
 */
export async function tokenServiceLoad(service: Pick<SpawnedTokenService, 'tokenUrl' | 'child'>, jwts: readonly string[], options: Omit<Common, 'root'> & { notes: string[] }) {
  const url = service.tokenUrl
  const form = 'application/x-www-form-urlencoded'
  const bodies = jwts.map((jwt) =>
    new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: jwt,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      client_id: 'cli',
    }).toString(),
  )
  const run = { url, method: 'POST' as const, connections: options.connections, durationSec: options.durationSec, headers: { 'content-type': form } }
  const exchange = (rate?: number, durationSec = options.durationSec) => measured(service, () => (rate ? runPaced({ ...run, durationSec, bodies, rate }) : runLoad({ ...run, durationSec, bodies })))

  /** Rotation chains: twice as many as connections, each from its own freshly exchanged refresh token. */
  async function refresh(rate?: number, durationSec = options.durationSec) {
    const seeds: string[] = []
    for (let i = 0; i < options.connections * 2; i += 1) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': form }, body: bodies[i % bodies.length] })
      const body = (await response.json()) as { refresh_token?: string }
      if (!body.refresh_token) throw new Error(`exchange returned no refresh_token (${response.status})`)
      seeds.push(body.refresh_token)
    }
    const chains = { seeds, bodyPrefix: 'grant_type=refresh_token&client_id=cli&refresh_token=' }
    const result = await measured(service, () => (rate ? runPaced({ ...run, durationSec, chains, rate }) : runLoad({ ...run, durationSec, chains })))
    if (result.starved) options.notes.push(`refresh${rate ? ' (paced)' : ''}: ${result.starved} requests found every chain waiting for its answer`)
    return result
  }
  return { exchange, refresh }
}

/** token-service as the bench starts it (production build unless BENCH_FROM=src): on a key prefix of the machine's Redis, or on the Redis that `env` names. */
export async function spawnBenchTokenService(root: string, identity: TrustedIdentity, redis: { redisPrefix: string } | { env: Record<string, string> }): Promise<SpawnedTokenService> {
  const { entry, execArgv } = serviceEntry(root, 'token-service')
  return spawnTokenService({
    entry,
    execArgv,
    identity,
    ...('redisPrefix' in redis ? { redisPrefix: redis.redisPrefix } : {}),
    env: {
      // The bench exchanges each of its BetterAuth JWTs many times: the replay limit would refuse it.
      ...repeatedExchangesEnv,
      LOG_LEVEL: 'warn',
      // The bench's one client address would trip the per-IP limit at once; the limiter still runs (one Redis call per request).
      RATE_LIMIT_MAX: '100000000',
      ...('env' in redis ? redis.env : {}),
      ...serverEnv(),
    },
  })
}

/**
 * token-service with real Redis and real BetterAuth JWTs: exchanges/s, refreshes/s, p99 at half of each
 * peak, and the peak RSS after all of it.
 */
export async function tokenServiceScenarios(options: Common & { notes: string[] }): Promise<string | ServiceRow[]> {
  if (!existsSync(serviceEntry(options.root, 'token-service').entry)) return 'token-service not built yet: not measured'
  const identity = await startIdentity()
  const { prefix, cleanup } = createTestRedisPrefix('bench')
  let service: SpawnedTokenService | undefined
  let floor: SpawnedService | undefined
  try {
    service = await spawnBenchTokenService(options.root, identity, { redisPrefix: prefix })
    const jwts: string[] = []
    for (let i = 0; i < 8; i += 1) jwts.push((await identity.signUp()).jwt)
    const warmUpSec = Math.max(3, Math.ceil(options.durationSec / 2))
    const { exchange, refresh } = await tokenServiceLoad(service, jwts, options)

    // The floor (bench/servers/token-floor.server.ts): the same grants with only the crypto and one Redis
    // call each, on the same identity and Redis, measured right after the service's peak of each grant.
    floor = await spawnService({
      entry: join(import.meta.dirname, '../servers/token-floor.server.ts'),
      env: { JWKS_URL: identity.jwksUrl, SUBJECT_ISSUER: identity.issuer, SUBJECT_AUDIENCE: identity.audience, REDIS_URL: testRedisUrl, REDIS_PREFIX: prefix, ...serverEnv() },
      execArgv: serviceEntry(options.root, 'token-service').execArgv,
    })
    const floorLoad = await tokenServiceLoad({ ...floor, tokenUrl: `${floor.url}/oauth/token` }, jwts, options)

    await exchange()
    const exchangePeak = await exchange()
    await floorLoad.exchange()
    const exchangeFloor = await floorLoad.exchange()
    // The paced generator runs in this process: a first run at the rate warms it up (JIT, sockets), so
    // the measured run is not the generator's own warm-up (its p99 against hello-world: 9 ms cold, 2 ms warm).
    const exchangeRate = Math.max(1, Math.floor(exchangePeak.rps / 2))
    await exchange(exchangeRate, warmUpSec)
    const exchangeHalf = await exchange(exchangeRate)
    await refresh()
    const refreshPeak = await refresh()
    await floorLoad.refresh()
    const refreshFloor = await floorLoad.refresh()
    const refreshRate = Math.max(1, Math.floor(refreshPeak.rps / 2))
    await refresh(refreshRate, warmUpSec)
    const refreshHalf = await refresh(refreshRate)
    const rssMb = peakRssMb(service.child.pid)
    const floorRss = peakRssMb(floor.child.pid)
    return [
      { name: 'token-service exchange', ...exchangePeak, rssMb, ...check('exchange-rps', exchangePeak.rps) },
      { name: 'floor: exchange, crypto + one Redis write only', ...exchangeFloor, rssMb: floorRss },
      { name: 'token-service exchange vs the floor', ...exchangePeak, rssMb: null, vsFloor: exchangePeak.rps / exchangeFloor.rps, chart: false },
      { name: 'token-service exchange at half peak', ...exchangeHalf, rssMb, ...check('exchange-p99', exchangeHalf.p99) },
      { name: 'token-service refresh', ...refreshPeak, rssMb, ...check('refresh-rps', refreshPeak.rps) },
      { name: 'floor: refresh, crypto + one Redis script only', ...refreshFloor, rssMb: floorRss },
      { name: 'token-service refresh vs the floor', ...refreshPeak, rssMb: null, vsFloor: refreshPeak.rps / refreshFloor.rps, chart: false },
      { name: 'token-service refresh at half peak', ...refreshHalf, rssMb, ...check('refresh-p99', refreshHalf.p99) },
      { name: 'token-service peak RSS (after all of the above)', ...refreshPeak, rssMb, ...check('token-service-rss', rssMb), chart: false },
    ]
  } catch (error) {
    return `token-service not measured: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    await service?.stop()
    await floor?.stop()
    await identity.close()
    await cleanup()
  }
}
