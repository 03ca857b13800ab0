import { existsSync } from 'node:fs'
import { createTestRedisPrefix, createTestSchema, repeatedExchangesEnv, spawnService, spawnTokenService, startIdentity, type SpawnedService } from '@todo-auth/testkit'
import type { BenchIssuer } from './issuer.ts'
import { runLoad, type LoadOptions } from './load.ts'
import { peakRssMb, rssNowMb, serverEnv } from './server-process.ts'
import { serviceEntry } from './services.ts'

/**
 * The soak (issue 17: RSS grew round after round with the default heap, 158 → 315 MB for
 * token-service, 149 → 354 MB for todo-api over three rounds, and never dropped when idle).
 * Each service runs from dist/ with the production flags; `rounds` rounds of `roundSec` of load,
 * each followed by `idleSec` idle. Reported per round: RSS right after the load and after the
 * idle gap, as a ratio to round 1, against `ceilingMb`.
 */
export interface SoakRound {
  service: string
  round: number
  rps: number
  rssAfterLoadMb: number | null
  rssAfterIdleMb: number | null
  peakRssMb: number | null
}

export interface SoakOptions {
  root: string
  issuer: BenchIssuer
  connections: number
  rounds: number
  roundSec: number
  idleSec: number
}

const idle = (sec: number) => new Promise((resolve) => setTimeout(resolve, sec * 1000))

async function rounds(name: string, service: SpawnedService, load: Omit<LoadOptions, 'durationSec' | 'connections'>, options: SoakOptions): Promise<SoakRound[]> {
  const out: SoakRound[] = []
  for (let round = 1; round <= options.rounds; round += 1) {
    const result = await runLoad({ ...load, connections: options.connections, durationSec: options.roundSec })
    const rssAfterLoadMb = rssNowMb(service.child.pid)
    await idle(options.idleSec)
    out.push({ service: name, round, rps: result.rps, rssAfterLoadMb, rssAfterIdleMb: rssNowMb(service.child.pid), peakRssMb: peakRssMb(service.child.pid) })
    process.stdout.write(`soak: ${name} round ${round}: ${Math.round(result.rps)} req/s, RSS ${rssAfterLoadMb} MB after load, ${out.at(-1)!.rssAfterIdleMb} MB idle\n`)
  }
  return out
}

export async function soak(options: SoakOptions): Promise<SoakRound[] | string> {
  const todo = serviceEntry(options.root, 'todo-api')
  const token = serviceEntry(options.root, 'token-service')
  if (!existsSync(todo.entry) || !existsSync(token.entry)) return 'soak: services not built'
  const results: SoakRound[] = []

  const schema = await createTestSchema('bench_soak')
  const todoApi = await spawnService({
    entry: todo.entry,
    execArgv: todo.execArgv,
    env: { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: schema.url, TOKEN_SERVICE_JWKS_URL: options.issuer.jwksUrl, TOKEN_ISSUER: options.issuer.issuer, TOKEN_AUDIENCE: options.issuer.audience, ...serverEnv() },
  })
  try {
    // Distinct tokens: the verified-token cache fills to its bound, as with real traffic.
    const tokens: string[] = []
    for (let i = 0; i < 20_000; i += 1) tokens.push(await options.issuer.sign())
    for (let i = 0; i < 20; i += 1) {
      await fetch(`${todoApi.url}/todos`, { method: 'POST', headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: `todo ${i}` }) })
    }
    results.push(...(await rounds('todo-api GET /todos', todoApi, { url: `${todoApi.url}/todos`, tokens }, options)))
  } finally {
    await todoApi.stop()
    await schema.drop()
  }

  const identity = await startIdentity()
  const redis = createTestRedisPrefix('bench-soak')
  const tokenService = await spawnTokenService({
    entry: token.entry,
    execArgv: token.execArgv,
    redisPrefix: redis.prefix,
    identity,
    env: { ...repeatedExchangesEnv, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000000', ...serverEnv() },
  })
  try {
    const bodies: string[] = []
    for (let i = 0; i < 8; i += 1) {
      const { jwt } = await identity.signUp()
      bodies.push(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }).toString())
    }
    results.push(...(await rounds('token-service exchange', tokenService, { url: tokenService.tokenUrl, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, bodies }, options)))
  } finally {
    await tokenService.stop()
    await identity.close()
    await redis.cleanup()
  }
  return results
}
