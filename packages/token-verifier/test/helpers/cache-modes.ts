import type { AccessTokenVerifier } from '../../src/jwt/verify-access-token.ts'
import type { VerifiedTokenCacheOptions } from '../../src/jwt/verified-token-cache.ts'

/**
 * Every verifier test file runs its whole suite once per mode. With the cache on, tokens are stored
 * on first use, so that the second call of verifyTwice is served from the cache. The default
 * admission (second use) adds nothing to check here: a token's first miss is the uncached path
 * ('cache off'), its second the same stored verification as a first-use store (see
 * verified-token-cache.admission.test.ts).
 */
export const cacheModes: ReadonlyArray<{ name: string; cache: VerifiedTokenCacheOptions | false }> = [
  { name: 'cache off', cache: false },
  { name: 'cache on', cache: { maxEntries: 1000, admission: 'first-use' } },
]

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

const settle = (promise: Promise<unknown>): Promise<Outcome> =>
  promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  )
const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code

/**
 * With the cache on, every verification runs twice in a row and both answers must agree:
 * an accepted token must be accepted again from the cache (a hit, the very same result, also
 * through the synchronous `cached()` when it answers), a refused one refused again with the same code (and
 * `cached()` must not know it). A disagreement rejects with an error
 * that fails the calling test. With the cache off the verifier is returned as is.
 */
export function verifyTwice(verifier: AccessTokenVerifier): AccessTokenVerifier {
  const stats = verifier.cache
  if (stats === null) return verifier
  return {
    cache: stats,
    async verify(token) {
      const first = await settle(verifier.verify(token))
      const hitsBefore = stats.hits
      const second = await settle(verifier.verify(token))
      if (first.ok && second.ok) {
        if (stats.hits !== hitsBefore + 1) throw new Error('cache check: an accepted token was not served from the cache the second time')
        if (second.value !== first.value) throw new Error('cache check: the cache served another result')
        const sync = verifier.cached?.(token)
        // A key resolver without peekKey cannot be asked synchronously: then cached() says undefined.
        if (sync !== undefined && sync !== first.value) throw new Error('cache check: cached() serves another result')
        return first.value as Awaited<ReturnType<AccessTokenVerifier['verify']>>
      }
      if (verifier.cached?.(token) !== undefined) throw new Error('cache check: cached() serves a refused token')
      if (first.ok || second.ok) throw new Error(`cache check: first ${first.ok ? 'accepted' : 'refused'}, then ${second.ok ? 'accepted' : 'refused'}`)
      if (codeOf(first.error) !== codeOf(second.error)) {
        throw new Error(`cache check: refused with ${String(codeOf(first.error))}, then ${String(codeOf(second.error))}`)
      }
      throw first.error
    },
  }
}
