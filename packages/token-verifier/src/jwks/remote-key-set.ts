import type { CryptoKey } from 'jose'
import { TokenVerifierError, TokenVerifierErrorCode } from '../errors.ts'
import { importKeySet, lookupKey, type KeySetKeys } from './import-key-set.ts'
import { isSupportedAlgorithm } from './key-algorithms.ts'
import { describeFetchError, freshnessMs, readCapped } from './read-jwks-response.ts'

/** Options of {@link createRemoteKeySet}. Times are milliseconds. */
export interface RemoteKeySetOptions {
  /** The JWKS URL (http or https). Fixed: redirects are refused (checklist R21). */
  url: string | URL
  /** Allowed JWS algorithms, compared case-sensitively; keys whose alg is not allowed are ignored. */
  algorithms: readonly string[]
  /** Per fetch (headers and body), default 5000. */
  timeoutMs?: number
  /**
   * Retry gap after a failed fetch, and the cap of the unknown-kid backoff; default 5000. An unknown
   * kid refetches at once; each refetch that does not find the kid it was made for doubles the gap
   * before the next one (from `missBackoffMs` up to `cooldownMs`), and a refetch that finds it resets it.
   */
  cooldownMs?: number
  /** First gap of the unknown-kid backoff, default 100 (at most `cooldownMs`). */
  missBackoffMs?: number
  /** Freshness when the response has no Cache-Control max-age, default 300_000. */
  defaultMaxAgeMs?: number
  /** Cap on a server's max-age, default 86_400_000. */
  maxMaxAgeMs?: number
  /** How long past freshness cached keys keep serving while refetches fail, default 86_400_000. */
  staleIfErrorMs?: number
  /** Injectable clock (ms since the epoch), default Date.now. */
  now?: () => number
  /** Injectable fetch, default globalThis.fetch. */
  fetch?: typeof globalThis.fetch
  /** Told of every fetch and every key served from the cache, e.g. to count them as metrics (the caller brings the metrics library). Must not throw. */
  onEvent?: (event: KeySetEvent) => void
}

/**
 * What a key set reports: a fetch (`ok`: a new document or the same one, `not_modified`: a 304,
 * `error`: failed, nothing changed) or a key served from the cache without a fetch.
 */
export type KeySetEvent = { readonly type: 'fetch'; readonly outcome: 'ok' | 'not_modified' | 'error' } | { readonly type: 'cache_hit' }

/** A cached, self-refreshing remote JSON Web Key Set. */
export interface RemoteKeySet {
  /**
   * The verification key for a JWS header. Usable as jose's key resolver
   * (`jwtVerify(token, keySet.getKey)`). Rejects with a {@link TokenVerifierError}:
   * `ERR_JWKS_NO_MATCHING_KEY` (no key for this kid and alg: the token is invalid) or
   * `ERR_JWKS_UNAVAILABLE` (nothing usable cached and the fetch failed: answer 503).
   */
  getKey(header: { alg?: string; kid?: string }): Promise<CryptoKey>
  /**
   * What {@link getKey} would resolve to right now, without fetching: the key while the set is
   * fresh; `null` when the fresh set holds no key for this alg and kid; `undefined` when the set
   * is not fresh (only getKey, which refetches, can tell). Synchronous, for a verified-token
   * cache that must not serve a token whose key has left the set.
   */
  peekKey(header: { alg?: string; kid?: string }): CryptoKey | null | undefined
  /** Counts changes of the imported keys (a key added, removed or replaced); a 304 or an identical document changes nothing. */
  readonly version: number
  /** Fetches now, sharing a fetch already in flight (start-up warm-up, readiness). Rejects with `ERR_JWKS_UNAVAILABLE`. */
  refresh(): Promise<void>
  /** `loaded`: a key set is held and still within its serving window (fresh or stale-if-error). */
  readonly status: { loaded: boolean; keyCount: number; fetchedAt: number | null; lastError: string | null }
}

interface KeySetState extends KeySetKeys {
  etag: string | null
  fetchedAt: number
  freshUntil: number
}

/**
 * Creates a remote key set. Behaviour:
 * - honours `Cache-Control: max-age` (capped by `maxMaxAgeMs`; `no-cache`/`no-store` mean 0) and
 *   revalidates with `If-None-Match` (a 304 keeps the set and renews its freshness);
 * - a stale set is refetched on use (at most once per `cooldownMs` after a failure);
 * - an unknown kid triggers an immediate refetch; concurrent misses share one in-flight fetch;
 *   a refetch that does not find its kid doubles the gap before the next miss-triggered one
 *   (`missBackoffMs`, 2×, … capped at `cooldownMs`), one that finds it (a real rotation) resets it, so
 *   random kids cost at most ~log2(cooldown/backoff) fetches and then one per `cooldownMs`, while
 *   an issuer rotating faster than the cooldown is still followed at once;
 * - a failed fetch keeps the last good set serving until `staleIfErrorMs` past its freshness;
 * - keys are imported once per document (a key already imported from an earlier document is reused);
 * - a key is used only with its own alg (the JWK's `alg`, or the single allowed alg its kty/crv fits),
 *   its kty/crv must fit that alg, and `kid` is only looked up in an in-memory Map.
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const url = new URL(options.url)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('JWKS url must be http(s)')
  if (options.algorithms.length === 0) throw new TypeError('algorithms must not be empty')
  for (const alg of options.algorithms) {
    if (!isSupportedAlgorithm(alg)) throw new TypeError(`unsupported JWS algorithm for a remote key set: ${alg}`)
  }
  const allowed = new Set(options.algorithms)
  const timeoutMs = options.timeoutMs ?? 5000
  const cooldownMs = options.cooldownMs ?? 5000
  const missBackoffMs = Math.min(options.missBackoffMs ?? 100, cooldownMs)
  const defaultMaxAgeMs = options.defaultMaxAgeMs ?? 300_000
  const maxMaxAgeMs = options.maxMaxAgeMs ?? 86_400_000
  const staleIfErrorMs = options.staleIfErrorMs ?? 86_400_000
  const now = options.now ?? Date.now
  const fetchImpl = options.fetch ?? globalThis.fetch

  let state: KeySetState | null = null
  let inFlight: Promise<void> | null = null
  let lastAttemptAt: number | null = null
  let lastMissRefetchAt: number | null = null
  // Gap required after lastMissRefetchAt: 0 until a miss-triggered refetch comes back without its kid.
  let missGapMs = 0
  let lastError: Error | null = null
  let version = 0

  const isFresh = () => state !== null && now() < state.freshUntil
  const isUsable = () => state !== null && now() < state.freshUntil + staleIfErrorMs

  const report = options.onEvent ?? (() => {})

  async function fetchOnce(): Promise<'ok' | 'not_modified'> {
    const headers: Record<string, string> = { accept: 'application/jwk-set+json, application/json' }
    if (state?.etag) headers['if-none-match'] = state.etag
    const response = await fetchImpl(url, { headers, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
    const at = now()
    const maxAge = freshnessMs(response.headers.get('cache-control'), { defaultMaxAgeMs, maxMaxAgeMs })
    if (response.status === 304 && state !== null) {
      await response.body?.cancel()
      state = { ...state, etag: response.headers.get('etag') ?? state.etag, fetchedAt: at, freshUntil: at + maxAge }
      return 'not_modified'
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new Error(`JWKS endpoint answered HTTP ${response.status}`)
    }
    const text = await readCapped(response)
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch {
      throw new Error('JWKS response is not JSON')
    }
    const { entries, byKid } = await importKeySet(document, state?.entries ?? [], allowed)
    const previous = state?.entries ?? []
    if (entries.length !== previous.length || entries.some((entry, i) => entry.key !== previous[i]!.key || entry.kid !== previous[i]!.kid)) {
      version += 1
    }
    state = { entries, byKid, etag: response.headers.get('etag'), fetchedAt: at, freshUntil: at + maxAge }
    return 'ok'
  }

  /** Starts a fetch, or returns the one in flight: concurrent callers share one request. */
  function startFetch(): Promise<void> {
    if (inFlight) return inFlight
    lastAttemptAt = now()
    inFlight = fetchOnce()
      .then(
        (outcome) => {
          lastError = null
          report({ type: 'fetch', outcome })
        },
        (error: unknown) => {
          lastError = describeFetchError(error, timeoutMs)
          report({ type: 'fetch', outcome: 'error' })
          throw lastError
        },
      )
      .finally(() => {
        inFlight = null
      })
    return inFlight
  }

  /** Waits for a fetch; true when it succeeded. Failures are recorded in lastError. */
  const settle = (fetching: Promise<void>) =>
    fetching.then(
      () => true,
      () => false,
    )

  const lookup = (alg: string, kid: string | undefined) => (state === null ? undefined : lookupKey(state, alg, kid))

  const unavailable = () => new TokenVerifierError(TokenVerifierErrorCode.jwksUnavailable, { cause: lastError ?? undefined })
  const noMatchingKey = () => new TokenVerifierError(TokenVerifierErrorCode.jwksNoMatchingKey)

  async function getKey(header: { alg?: string; kid?: string }): Promise<CryptoKey> {
    const alg: unknown = header?.alg
    const kid: unknown = header?.kid
    // A disallowed alg or a non-string kid can never match: no fetch for them (R02, R05).
    if (typeof alg !== 'string' || !allowed.has(alg)) throw noMatchingKey()
    if (kid !== undefined && typeof kid !== 'string') throw noMatchingKey()

    let fetchedNow = false
    let waited = false
    if (!isFresh()) {
      // A fetch in flight is shared (a miss after it may still refetch on its own, below); otherwise one
      // starts unless still cooling down from a failure.
      if (inFlight) {
        waited = true
        await settle(inFlight)
      } else if (lastAttemptAt === null || now() - lastAttemptAt >= cooldownMs) {
        waited = true
        fetchedNow = await settle(startFetch())
      }
      if (!isUsable()) throw unavailable()
    }
    const key = lookup(alg, kid)
    if (key) {
      if (!waited) report({ type: 'cache_hit' })
      return key
    }

    // Unknown kid: the issuer may have rotated (BetterAuth does not pre-publish). A fetch in flight may
    // have started before the key was published, so its answer alone does not settle the miss.
    if (fetchedNow) throw noMatchingKey()
    if (inFlight) {
      await settle(inFlight)
      if (!isUsable()) throw unavailable()
      const shared = lookup(alg, kid)
      if (shared) return shared
    }
    if (lastMissRefetchAt !== null && now() - lastMissRefetchAt < missGapMs) throw noMatchingKey()
    // Back off before fetching, so misses racing this one wait; a find (a real rotation) resets it.
    lastMissRefetchAt = now()
    missGapMs = Math.min(Math.max(missGapMs * 2, missBackoffMs), cooldownMs)
    const ok = await settle(startFetch())
    if (!ok) missGapMs = cooldownMs
    if (!isUsable()) throw unavailable()
    const refetched = lookup(alg, kid)
    if (!refetched) throw noMatchingKey()
    missGapMs = 0
    return refetched
  }

  function peekKey(header: { alg?: string; kid?: string }): CryptoKey | null | undefined {
    if (!isFresh()) return undefined
    const alg: unknown = header?.alg
    const kid: unknown = header?.kid
    if (typeof alg !== 'string' || !allowed.has(alg)) return null
    if (kid !== undefined && typeof kid !== 'string') return null
    return lookup(alg, kid) ?? null
  }

  async function refresh(): Promise<void> {
    try {
      await startFetch()
    } catch {
      throw unavailable()
    }
  }

  return {
    getKey,
    peekKey,
    refresh,
    get version() {
      return version
    },
    get status() {
      return {
        loaded: isUsable(),
        keyCount: state?.entries.length ?? 0,
        fetchedAt: state?.fetchedAt ?? null,
        lastError: lastError?.message ?? null,
      }
    },
  }
}
