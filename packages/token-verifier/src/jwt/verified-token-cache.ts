import type { CryptoKey } from 'jose'
import type { KeyResolver, VerifiedAccessToken } from './verify-access-token.ts'

/** Options of the verified-token cache of {@link createAccessTokenVerifier}. */
export interface VerifiedTokenCacheOptions {
  /**
   * Most tokens held; the least recently used one is evicted first. Default 10 000
   * (about 2.5 kB per entry: the token string and its decoded claims).
   */
  maxEntries?: number
}

/** Counters of a verified-token cache, for metrics and tests. */
export interface VerifiedTokenCacheStats {
  /** Tokens held now. */
  readonly size: number
  /** Calls answered from the cache. */
  readonly hits: number
  /** Full verifications started (concurrent calls with the same new token share one). */
  readonly verifications: number
  /** Entries dropped: least recently used, expired, or whose key left the key set. */
  readonly evictions: number
}

/** A full verification and the key it was checked with. */
export interface KeyedVerification {
  result: VerifiedAccessToken
  key: CryptoKey
}

interface Entry {
  result: VerifiedAccessToken
  key: CryptoKey
  exp: number
}

export const defaultCacheMaxEntries = 10_000

/**
 * Puts a bounded cache in front of `verifyFully`: an LRU map keyed by the exact
 * token string (only tokens that passed every check enter it), plus single-flight
 * misses (concurrent calls with the same token share one verification, whatever
 * its outcome; failures are never cached).
 *
 * An entry is served only while the uncached path would accept the token too:
 * - `exp` is checked on every hit with the same tolerance as verification (no more);
 * - the key that verified it must still be the one the key set holds for its
 *   alg and kid, compared by identity: synchronously through `peekKey` when the
 *   set is fresh, else through `getKey` (which refetches a stale set, so a key
 *   that left the JWKS or was revoked is noticed as soon as it would be without
 *   the cache); anything else drops the entry and verifies again;
 * - when the key set's `version` changes, entries whose key is gone are evicted.
 */
export function cacheVerifiedTokens(
  verifyFully: (token: string) => Promise<KeyedVerification>,
  options: { keySet: KeyResolver; now: () => number; clockToleranceSec: number; maxEntries: number },
): { verify(token: string): Promise<VerifiedAccessToken>; readonly stats: VerifiedTokenCacheStats } {
  const { keySet, now, clockToleranceSec: tolerance, maxEntries } = options
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('cache.maxEntries must be a positive integer (cache: false turns the cache off)')
  const peekKey = typeof keySet.peekKey === 'function' ? keySet.peekKey.bind(keySet) : undefined
  const tracksVersion = typeof keySet.version === 'number'

  // Map iteration order is insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, Entry>()
  const inFlight = new Map<string, Promise<VerifiedAccessToken>>()
  let seenVersion = keySet.version
  let hits = 0
  let verifications = 0
  let evictions = 0

  /** jose refuses `exp <= now - tolerance` (whole seconds); the cache uses the very same rule. */
  const unexpired = (exp: number) => exp > Math.floor(now() / 1000) - tolerance

  function drop(token: string, entry: Entry) {
    if (entries.get(token) === entry) {
      entries.delete(token)
      evictions += 1
    }
  }

  function store(token: string, { result, key }: KeyedVerification) {
    if (!unexpired(result.exp)) return
    entries.delete(token)
    entries.set(token, { result, key, exp: result.exp })
    if (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string
      entries.delete(oldest)
      evictions += 1
    }
  }

  /**
   * Drops entries whose key the changed key set no longer holds. Rare: once per key-set change.
   * Only a fresh set can say a key is gone; a stale one postpones the sweep (hits revalidate meanwhile).
   */
  function sweep() {
    if (peekKey === undefined) {
      seenVersion = keySet.version
      return
    }
    for (const [token, entry] of entries) {
      const current = peekKey(entry.result.header)
      if (current === undefined) return
      if (current !== entry.key) drop(token, entry)
    }
    seenVersion = keySet.version
  }

  function miss(token: string): Promise<VerifiedAccessToken> {
    const pending = inFlight.get(token)
    if (pending !== undefined) return pending
    verifications += 1
    const verification = (async () => {
      try {
        const verified = await verifyFully(token)
        store(token, verified)
        return verified.result
      } finally {
        inFlight.delete(token)
      }
    })()
    inFlight.set(token, verification)
    return verification
  }

  /** The set is stale or its key differs: ask getKey (it refetches a stale set) and serve only the very same key. */
  async function revalidate(token: string, entry: Entry): Promise<VerifiedAccessToken> {
    let key: CryptoKey | undefined
    try {
      key = await keySet.getKey(entry.result.header)
    } catch {
      key = undefined
    }
    if (key === entry.key && entries.get(token) === entry && unexpired(entry.exp)) {
      entries.delete(token)
      entries.set(token, entry)
      hits += 1
      return entry.result
    }
    drop(token, entry)
    // The full path gives the exact answer (expired, no matching key, unavailable, bad signature).
    return miss(token)
  }

  function verify(token: string): Promise<VerifiedAccessToken> {
    if (tracksVersion && keySet.version !== seenVersion) sweep()
    const entry = entries.get(token)
    if (entry === undefined) return miss(token)
    if (!unexpired(entry.exp)) {
      drop(token, entry)
      return miss(token)
    }
    if (peekKey === undefined || peekKey(entry.result.header) !== entry.key) return revalidate(token, entry)
    entries.delete(token)
    entries.set(token, entry)
    hits += 1
    return Promise.resolve(entry.result)
  }

  return {
    verify,
    stats: {
      get size() {
        return entries.size
      },
      get hits() {
        return hits
      },
      get verifications() {
        return verifications
      },
      get evictions() {
        return evictions
      },
    },
  }
}
