import type { CryptoKey } from 'jose'
import type { KeyResolver, VerifiedAccessToken } from './access-token.types.ts'

/** Options of the verified-token cache of `createAccessTokenVerifier`. */
export interface VerifiedTokenCacheOptions {
  /**
   * Most tokens held; the least recently used one is evicted first. Default 10 000
   * (about 2 kB per entry for a 600-character token: the token string and its decoded claims).
   */
  maxEntries?: number
  /**
   * When a verified token is stored. `'second-use'` (the default): from its second full
   * verification on; a token seen once is verified and forgotten, so one-off tokens neither
   * evict tokens in use nor keep memory alive (a token used all the time costs one extra
   * verification, once). `'first-use'`: from its first verification.
   */
  admission?: 'first-use' | 'second-use'
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
  token: string
  result: VerifiedAccessToken
  key: CryptoKey
  exp: number
  /** The insertion counter when this entry was last (re)inserted. */
  tick: number
}

export const defaultCacheMaxEntries = 10_000
/** 22 base64url characters: 132 bits of the signature. */
const indexLength = 22
const indexOf = (token: string) => (token.length > indexLength ? token.slice(-indexLength) : token)

/**
 * TinyLFU's doorkeeper (Einziger, Friedman, Manes 2017): a Bloom filter of the tokens verified since
 * its last reset, three probes into at least 8 bits per token it holds (false positives at most 3 %:
 * such a token is simply stored on its first use). It holds `capacity` tokens, then starts empty
 * again. It sees only the token's last characters (signature bytes) and keeps no reference to it.
 */
function createDoorkeeper(capacity: number): (token: string) => boolean {
  const bitCount = 2 ** Math.max(10, Math.ceil(Math.log2(capacity * 8)))
  const words = new Int32Array(bitCount >>> 5)
  const mask = bitCount - 1
  const isSet = (bit: number) => (words[bit >>> 5]! & (1 << (bit & 31))) !== 0
  const set = (bit: number) => {
    words[bit >>> 5]! |= 1 << (bit & 31)
  }
  let held = 0
  /** Whether this token was seen since the last reset; marks it as seen. */
  return function seenBefore(token: string): boolean {
    // FNV-1a over the index characters, then a second hash from it (Kirsch-Mitzenmacher double hashing).
    let h1 = 0x811c9dc5
    for (let i = Math.max(0, token.length - indexLength); i < token.length; i += 1) h1 = Math.imul(h1 ^ token.charCodeAt(i), 0x01000193)
    let h2 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b)
    h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
    h2 = (h2 ^ (h2 >>> 16)) | 1
    const b0 = h1 & mask
    const b1 = (h1 + h2) & mask
    const b2 = (h1 + Math.imul(2, h2)) & mask
    if (isSet(b0) && isSet(b1) && isSet(b2)) return true
    if (held >= capacity) {
      words.fill(0)
      held = 0
    }
    held += 1
    set(b0)
    set(b1)
    set(b2)
    return false
  }
}
const resultOf = (verified: KeyedVerification) => verified.result

/**
 * Puts a bounded cache in front of `verifyFully`: a map of tokens that passed every
 * check, served only on an exact match of the whole token string, plus single-flight
 * misses (concurrent calls with the same token share one verification, whatever
 * its outcome; failures are never cached).
 *
 * With `admission: 'second-use'` a token's first miss is a plain verification that stores
 * nothing and touches no map: a {@link createDoorkeeper doorkeeper} only notes that it was seen;
 * from its second miss on, misses are single-flight and a success is stored. (Measured on the
 * bench's every-token-new route: storing each new token kept the young generation's survivors
 * high enough for V8 to grow new space to 64 MB, +130 MB RSS and 30-40 µs per request.)
 *
 * The map is indexed by the token's last {@link indexLength} characters (signature
 * bytes: unique per token) rather than the whole string: V8 hashes every character of
 * a key, and hashing a 700-character token on each request costs more than the rest
 * of the hit. The entry keeps the whole token and a hit requires it to be equal.
 * Eviction is least-recently-used, approximated: a hit re-inserts its entry only once
 * it has drifted into the older half of the map (re-inserting the same key on every
 * hit is O(size) in V8's ordered hash map).
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
  options: { keySet: KeyResolver; now: () => number; clockToleranceSec: number; maxEntries: number; admission: 'first-use' | 'second-use' },
): {
  verify(token: string): Promise<VerifiedAccessToken>
  cached(token: string): VerifiedAccessToken | undefined
  readonly stats: VerifiedTokenCacheStats
} {
  const { keySet, now, clockToleranceSec: tolerance, maxEntries, admission } = options
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('cache.maxEntries must be a positive integer (cache: false turns the cache off)')
  if (admission !== 'first-use' && admission !== 'second-use') throw new TypeError("cache.admission must be 'first-use' or 'second-use'")
  const seenBefore = admission === 'second-use' ? createDoorkeeper(maxEntries) : undefined
  const peekKey = typeof keySet.peekKey === 'function' ? keySet.peekKey.bind(keySet) : undefined
  const tracksVersion = typeof keySet.version === 'number'

  // Map iteration order is insertion order: the first entry is the least recently (re)inserted.
  const entries = new Map<string, Entry>()
  const promoteAfter = Math.max(1, maxEntries >> 1)
  let ticks = 0
  const inFlight = new Map<string, Promise<VerifiedAccessToken>>()
  let seenVersion = keySet.version
  let hits = 0
  let verifications = 0
  let evictions = 0

  /** jose refuses `exp <= now - tolerance` (whole seconds); the cache uses the very same rule. */
  const unexpired = (exp: number) => exp > Math.floor(now() / 1000) - tolerance

  function drop(entry: Entry) {
    const index = indexOf(entry.token)
    if (entries.get(index) === entry) {
      entries.delete(index)
      evictions += 1
    }
  }

  function insert(index: string, entry: Entry) {
    entries.delete(index)
    ticks += 1
    entry.tick = ticks
    entries.set(index, entry)
  }

  /** The entry for exactly this token, if any. */
  function find(token: string): Entry | undefined {
    const entry = entries.get(indexOf(token))
    return entry !== undefined && entry.token === token ? entry : undefined
  }

  function served(entry: Entry): VerifiedAccessToken {
    if (ticks - entry.tick >= promoteAfter) insert(indexOf(entry.token), entry)
    hits += 1
    return entry.result
  }

  function store(token: string, { result, key }: KeyedVerification) {
    if (!unexpired(result.exp)) return
    // Another token with the same last characters (not a genuine case) simply takes the slot.
    insert(indexOf(token), { token, result, key, exp: result.exp, tick: 0 })
    if (entries.size > maxEntries) evictOldest()
  }

  // One long-lived iterator walks the map in insertion order: everything before its position has
  // been evicted or moved to the end, so its next key is the oldest. A fresh keys().next() per
  // eviction would skip every deleted slot at the front again (7 µs per eviction at 10 000 entries).
  let oldest = entries.keys()
  function evictOldest() {
    let next = oldest.next()
    if (next.done) {
      oldest = entries.keys()
      next = oldest.next()
    }
    if (next.done) return
    entries.delete(next.value)
    evictions += 1
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
    for (const entry of entries.values()) {
      const current = peekKey(entry.result.header)
      if (current === undefined) return
      if (current !== entry.key) drop(entry)
    }
    seenVersion = keySet.version
  }

  function miss(token: string): Promise<VerifiedAccessToken> {
    if (seenBefore !== undefined && !seenBefore(token)) {
      verifications += 1
      return verifyFully(token).then(resultOf)
    }
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
    if (key === entry.key && find(token) === entry && unexpired(entry.exp)) return served(entry)
    drop(entry)
    // The full path gives the exact answer (expired, no matching key, unavailable, bad signature).
    return miss(token)
  }

  /** The entry of this token when it can be served now without any I/O. */
  function servable(token: string): Entry | undefined {
    if (tracksVersion && keySet.version !== seenVersion) sweep()
    const entry = find(token)
    if (entry === undefined || !unexpired(entry.exp)) return undefined
    return peekKey !== undefined && peekKey(entry.result.header) === entry.key ? entry : undefined
  }

  function cached(token: string): VerifiedAccessToken | undefined {
    const entry = servable(token)
    return entry === undefined ? undefined : served(entry)
  }

  function verify(token: string): Promise<VerifiedAccessToken> {
    const ready = servable(token)
    if (ready !== undefined) return Promise.resolve(served(ready))
    const entry = find(token)
    if (entry === undefined) return miss(token)
    if (!unexpired(entry.exp)) {
      drop(entry)
      return miss(token)
    }
    return revalidate(token, entry)
  }

  return {
    verify,
    cached,
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
