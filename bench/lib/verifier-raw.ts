import { createLocalJWKSet, jwtVerify } from 'jose'
import { createAccessTokenVerifier, createRemoteKeySet } from '@todo-auth/token-verifier'
import type { BenchIssuer } from './issuer.ts'
import { fastJwtVerifier, fetchJwk, nodeCryptoVerifier } from './peer-verifiers.ts'

// In-process verification rates, no HTTP: what each verifier does per CPU second on its own. A 1 s
// warm-up, then 3 s measured; the CPU time is the whole process's (all threads: WebCrypto runs on
// libuv's pool).

export interface RawRate {
  rps: number
  cpuUsPerReq: number
}

async function timed(ms: number, loop: (until: number) => Promise<number> | number): Promise<RawRate> {
  const started = performance.now()
  const cpu = process.cpuUsage()
  const count = await loop(started + ms)
  const used = process.cpuUsage(cpu)
  return { rps: count / ((performance.now() - started) / 1000), cpuUsPerReq: (used.user + used.system) / count }
}

/** `inFlight` verifications at a time, as a server with that many connections has them. */
async function concurrently(tokens: readonly string[], inFlight: number, verify: (token: string) => Promise<unknown>): Promise<RawRate> {
  const run = (ms: number, offset: number) =>
    timed(ms, async (until) => {
      let next = 0
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (performance.now() < until) await verify(tokens[(offset + next++) % tokens.length]!)
        }),
      )
      return next
    })
  await run(1000, 0)
  return run(3000, Math.floor(tokens.length / 2))
}

/** A synchronous verifier in a plain loop (it never yields, as on a server's main thread). */
function sequentially(tokens: readonly string[], verify: (token: string) => unknown): Promise<RawRate> {
  const run = (ms: number) =>
    timed(ms, (until) => {
      let count = 0
      while (performance.now() < until) {
        for (let i = 0; i < 100; i += 1) {
          if (verify(tokens[count++ % tokens.length]!) === undefined) throw new Error('bench: a valid token was refused')
        }
      }
      return count
    })
  return run(1000).then(() => run(3000))
}

/** jose's jwtVerify (ES256, iss, aud, typ) over a local JWKS, `inFlight` at a time. */
export async function rawJose(issuer: BenchIssuer, jwk: Record<string, string>, tokens: readonly string[], inFlight: number): Promise<RawRate> {
  const jwks = createLocalJWKSet({ keys: [jwk as never] })
  const options = { issuer: issuer.issuer, audience: issuer.audience, algorithms: ['ES256'], typ: 'at+jwt' }
  return concurrently(tokens, inFlight, (token) => jwtVerify(token, jwks, options))
}

export function rawFastJwt(issuer: BenchIssuer, jwk: Record<string, string>, tokens: readonly string[]): Promise<RawRate> {
  return sequentially(tokens, fastJwtVerifier({ jwk, issuer: issuer.issuer, audience: issuer.audience }))
}

export function rawNodeCrypto(issuer: BenchIssuer, jwk: Record<string, string>, tokens: readonly string[]): Promise<RawRate> {
  return sequentially(tokens, nodeCryptoVerifier({ jwk, issuer: issuer.issuer, audience: issuer.audience }))
}

/**
 * All four over the same tokens. The one that fetches the JWKS runs first: the synchronous loops
 * block this process (and its stand-in issuer) for seconds, long enough for the issuer to close an
 * idle keep-alive connection that fetch would then reuse.
 */
export async function rawRates(issuer: BenchIssuer, tokens: readonly string[], inFlight: number) {
  const ours = await rawTokenVerifier(issuer, tokens, inFlight)
  const jwk = await fetchJwk(issuer.jwksUrl)
  const jose = await rawJose(issuer, jwk, tokens, inFlight)
  return { ours, jose, fastJwt: await rawFastJwt(issuer, jwk, tokens), nodeCrypto: await rawNodeCrypto(issuer, jwk, tokens) }
}

/** token-verifier with its cache off (every call a full verification), `inFlight` at a time. */
export async function rawTokenVerifier(issuer: BenchIssuer, tokens: readonly string[], inFlight: number): Promise<RawRate> {
  const keySet = createRemoteKeySet({ url: issuer.jwksUrl, algorithms: ['ES256'] })
  await keySet.refresh()
  const verifier = createAccessTokenVerifier({ issuer: issuer.issuer, audience: issuer.audience, keySet, cache: false })
  return concurrently(tokens, inFlight, (token) => verifier.verify(token))
}
