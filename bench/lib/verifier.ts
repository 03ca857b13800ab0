import type { BenchIssuer } from './issuer.ts'
import type { LoadOptions, LoadResult } from './load.types.ts'
import type { Row } from './report.ts'
import { check } from './targets.ts'
import { rawRates, type RawRate } from './verifier-raw.ts'

// The verifier section of bench/run.ts: token-verifier on a route that only authenticates, its
// cache-miss path against the other correct verifiers on the same route (jose, fast-jwt, node:crypto
// alone, each verifying every request) and in-process, and the peers' stacks.

export type Measured = LoadResult & { rssMb: number | null; cpuUsPerReq: number | null }
type Load = Omit<LoadOptions, 'url' | 'durationSec' | 'connections'>

export interface VerifierSection {
  issuer: BenchIssuer
  /** The one-token load: the same request bytes as the hello-world baseline's. */
  single: Load
  connections: number
  durationSec: number
  /** Starts a bench server, warms it up with `warmUp`, measures `load` (bench/run.ts). */
  measure(file: string, env: Record<string, string>, load: Load, warmUp?: Load): Promise<Measured>
  /** A table row of a measurement, as a ratio to the first hello-world baseline unless `extra` says otherwise. */
  row(name: string, m: Measured, extra?: Partial<Row>): Row
  /** The ratio to the first hello-world baseline. */
  ratio(rps: number): number
  notes: string[]
}

const rawRow = (name: string, raw: RawRate, ratio: number): Row => ({ name, rps: raw.rps, cpuUsPerReq: raw.cpuUsPerReq, baseline: 'baseline', ratio })

export async function verifierScenarios({ issuer, single, connections, durationSec, measure, row, ratio, notes }: VerifierSection): Promise<Row[]> {
  const rows: Row[] = []
  const authEnv = { JWKS_URL: issuer.jwksUrl, ISSUER: issuer.issuer, AUDIENCE: issuer.audience }

  const one = await measure('verifier.server.ts', authEnv, single)
  rows.push(row('token-verifier, 1 token', one, { ratio: ratio(one.rps), ...check('auth-one-token', ratio(one.rps)) }))

  const pool: string[] = []
  for (let i = 0; i < 10_000; i += 1) pool.push(await issuer.sign())
  const many = await measure('verifier.server.ts', authEnv, { tokens: pool })
  rows.push(row('token-verifier, 10 000 tokens', many, { ratio: ratio(many.rps), ...check('auth-10k-tokens', ratio(many.rps)) }))

  // In-process rates over distinct tokens, no HTTP: the ceiling of each verifier on its own.
  const raw = await rawRates(issuer, pool, connections)
  rows.push(rawRow('raw ES256 jwtVerify (jose, in-process)', raw.jose, ratio(raw.jose.rps)))
  rows.push(rawRow('raw ES256 fast-jwt verify (in-process)', raw.fastJwt, ratio(raw.fastJwt.rps)))
  rows.push(rawRow('raw ES256 node:crypto verify (in-process)', raw.nodeCrypto, ratio(raw.nodeCrypto.rps)))
  rows.push(rawRow('raw token-verifier, cache off (in-process)', raw.ours, ratio(raw.ours.rps)))

  // Cache-miss path: every request carries a token the server has never seen (warm-up on another token).
  // The same pool for every server: none of them has seen it.
  const fresh: string[] = []
  const fastestRaw = Math.max(raw.jose.rps, raw.fastJwt.rps, raw.nodeCrypto.rps, raw.ours.rps, 5000)
  const needed = Math.min(600_000, Math.ceil(fastestRaw * 1.5 * durationSec))
  for (let i = 0; i < needed; i += 1) fresh.push(await issuer.sign())
  const missOf = async (file: string, env: Record<string, string> = authEnv) => {
    const measured = await measure(file, env, { tokens: fresh }, single)
    if (measured.reused) notes.push(`cache-miss scenario (${file}): the ${fresh.length} fresh tokens ran out and were reused`)
    return measured
  }
  const miss = await missOf('verifier.server.ts')
  const onRoute = {
    jose: await missOf('jose.server.ts'),
    fastJwt: await missOf('fast-jwt.server.ts'),
    nodeCrypto: await missOf('node-crypto.server.ts'),
  }
  const peers = [
    ['jose', onRoute.jose],
    ['fast-jwt', onRoute.fastJwt],
    ['node:crypto', onRoute.nodeCrypto],
  ] as const
  const [fastestName, fastest] = peers.reduce((best, peer) => (peer[1].rps > best[1].rps ? peer : best))
  const target = miss.rps / fastest.rps
  rows.push(row('token-verifier, every token new', miss, { baseline: `fastest per request (${fastestName})`, ratio: target, ...check('cache-miss', target) }))
  rows.push(row('jose jwtVerify per request, every token new', onRoute.jose, { baseline: 'raw jose', ratio: onRoute.jose.rps / raw.jose.rps }))
  rows.push(row('fast-jwt verify per request, every token new', onRoute.fastJwt, { baseline: 'raw fast-jwt', ratio: onRoute.fastJwt.rps / raw.fastJwt.rps }))
  rows.push(row('node:crypto verify per request, every token new', onRoute.nodeCrypto, { baseline: 'raw node:crypto', ratio: onRoute.nodeCrypto.rps / raw.nodeCrypto.rps }))
  rows.push({ name: 'token-verifier, every token new, vs its in-process rate', rps: miss.rps, baseline: 'raw token-verifier', ratio: miss.rps / raw.ours.rps, chart: false })
  rows.push({ name: 'token-verifier vs jose, every token new', rps: miss.rps, baseline: 'jose per request', ratio: miss.rps / onRoute.jose.rps })

  const joseOne = await measure('jose.server.ts', authEnv, single)
  rows.push(row('jose jwtVerify per request, 1 token', joseOne, { ratio: ratio(joseOne.rps) }))
  const uncached = await measure('verifier.server.ts', { ...authEnv, CACHE: 'off' }, single)
  rows.push(row('token-verifier, cache off, 1 token', uncached, { ratio: ratio(uncached.rps) }))

  const fjReadme = await measure('fastify-jwt.server.ts', authEnv, single)
  rows.push(row('peer: @fastify/jwt + get-jwks (README setup)', fjReadme, { ratio: ratio(fjReadme.rps) }))
  const fjMemo = await measure('fastify-jwt.server.ts', { ...authEnv, MEMO_KEY: 'true' }, single)
  rows.push(row('peer: @fastify/jwt + get-jwks, memoised key', fjMemo, { ratio: ratio(fjMemo.rps) }))
  const fjCache = await measure('fastify-jwt.server.ts', { ...authEnv, MEMO_KEY: 'true', FAST_JWT_CACHE: '10000' }, single)
  rows.push(row('peer: @fastify/jwt + get-jwks, memoised key, fast-jwt cache', fjCache, { ratio: ratio(fjCache.rps) }))
  rows.push({ name: 'token-verifier vs @fastify/jwt cached, 1 token', rps: one.rps, baseline: '@fastify/jwt cached', ratio: one.rps / fjCache.rps, ...check('vs-fastify-jwt', one.rps / fjCache.rps) })
  const fjCachePool = await measure('fastify-jwt.server.ts', { ...authEnv, MEMO_KEY: 'true', FAST_JWT_CACHE: '10000' }, { tokens: pool })
  rows.push(row('peer: @fastify/jwt cached, 10 000 tokens', fjCachePool, { ratio: ratio(fjCachePool.rps) }))
  rows.push({ name: 'token-verifier vs @fastify/jwt cached, 10 000 tokens', rps: many.rps, baseline: '@fastify/jwt cached', ratio: many.rps / fjCachePool.rps })
  const ex = await measure('express-jwt.server.ts', authEnv, single)
  rows.push(row('peer: express + express-jwt + jwks-rsa', ex, { ratio: ratio(ex.rps) }))
  return rows
}
