import { hash } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { InvalidGrant } from '../errors.ts'
import { guarded, luaScript } from '../redis/lua-script.ts'
import type { RedisClient } from '../redis/redis-client.ts'
import type { SubjectTokenVerifier } from './verify-subject-token.ts'

/*
 * The subject-token replay rule (issue 17, SUBJECT_TOKEN_MAX_EXCHANGES): one BetterAuth JWT may be
 * exchanged at most `max` times. It is counted by its `jti`, or, since BetterAuth's jwt plugin sets
 * none, by a SHA-256 of the token itself; the count lives as long as the token could still be
 * accepted (its exp plus CLOCK_TOLERANCE), in Redis when there is one (shared by every instance):
 *   <prefix>subj:{<sha256(jti or token)>}   integer, TTL = the token's remaining lifetime
 * An exchange is counted once the token verified, whether or not the session is then created.
 */
const countScript = luaScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

export interface ExchangeCounter {
  /** Counts one exchange of token `id` (kept for `ttlMs`); the count including this one. */
  count(id: string, ttlMs: number): Promise<number>
}

export function createRedisExchangeCounter(redis: RedisClient, prefix: string): ExchangeCounter {
  return { count: (id, ttlMs) => guarded(async () => Number(await countScript(redis, [`${prefix}subj:{${id}}`], [ttlMs]))) }
}

export function createMemoryExchangeCounter(clock: Clock): ExchangeCounter {
  const counts = new Map<string, { n: number; until: number }>()
  let lastSweep = clock.now()
  return {
    async count(id, ttlMs) {
      const now = clock.now()
      if (now - lastSweep >= 60_000) {
        lastSweep = now
        for (const [key, entry] of counts) if (entry.until <= now) counts.delete(key)
      }
      const entry = counts.get(id)
      const next = entry && entry.until > now ? { n: entry.n + 1, until: entry.until } : { n: 1, until: now + ttlMs }
      counts.set(id, next)
      return next.n
    },
  }
}

/** The id a subject token is counted by: never the token or the jti itself, a fixed-alphabet hash (R55). */
function tokenId(token: string, jti: unknown): string {
  return hash('sha256', typeof jti === 'string' && jti !== '' ? `jti:${jti}` : `jwt:${token}`, 'base64url')
}

/** `verifier`, refusing (invalid_grant) a token already exchanged `max` times. */
export function limitExchanges(verifier: SubjectTokenVerifier, options: { counter: ExchangeCounter; max: number; clock: Clock; clockToleranceSec: number }): SubjectTokenVerifier {
  return {
    keySet: verifier.keySet,
    warmUp: () => verifier.warmUp(),
    async verify(token) {
      const identity = await verifier.verify(token)
      const ttlMs = Math.max(1000, (identity.exp + options.clockToleranceSec) * 1000 - options.clock.now())
      const n = await options.counter.count(tokenId(token, identity.jti), ttlMs)
      if (n > options.max) throw new InvalidGrant('the subject token is invalid', { cause: new Error(`subject token exchanged ${n} times (at most ${options.max})`) })
      return identity
    },
  }
}
