import type { CryptoKey } from 'jose'
import { TokenVerifierError, TokenVerifierErrorCode } from '../errors.ts'
import type { RemoteKeySet } from '../jwks/remote-key-set.ts'
import { signatureAlgorithms, verifySignature } from '../jws/verify-signature.ts'
import type { KeyResolver, VerifiedAccessToken } from './access-token.types.ts'
import { createClaimsCheck } from './check-access-token-claims.ts'
import { decodeCompactJws, parseUtf8Json, segmentBytes } from './inspect-compact-jws.ts'
import { cacheVerifiedTokens, defaultCacheMaxEntries, type KeyedVerification, type VerifiedTokenCacheOptions, type VerifiedTokenCacheStats } from './verified-token-cache.ts'

export type { KeyResolver, VerifiedAccessToken } from './access-token.types.ts'

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /** The exact `iss` (no trailing-slash or case tolerance, R13). */
  issuer: string
  /** This resource server's identifier; `aud` must contain it (or one of them). */
  audience: string | readonly string[]
  /** Allowed JWS algorithms, case-sensitive; default `['ES256']`. `none` and HMAC are refused at creation. */
  algorithms?: readonly string[]
  /** Leeway for exp, nbf and iat, in seconds; default 30 (SPEC §10). */
  clockToleranceSec?: number
  keySet: RemoteKeySet | KeyResolver
  /** Longest token accepted, in characters; default 8192. */
  maxTokenLength?: number
  /** Injectable clock (ms since the epoch), default Date.now. */
  now?: () => number
  /**
   * The verified-token cache: on by default (`{ maxEntries: 10_000 }`); `false` turns it off.
   * A cached token is served only until its `exp` (with the same tolerance) and only while the
   * key that verified it is still in the key set; see {@link cacheVerifiedTokens}.
   */
  cache?: VerifiedTokenCacheOptions | false
}

export interface AccessTokenVerifier {
  /**
   * Verifies a compact JWS access token. Rejects with a {@link TokenVerifierError}:
   * `ERR_TOKEN_MALFORMED`, `ERR_TOKEN_INVALID`, `ERR_TOKEN_EXPIRED`, `ERR_JWKS_NO_MATCHING_KEY`
   * (all: the token is invalid) or `ERR_JWKS_UNAVAILABLE` (keys unavailable: 503, never accept).
   */
  verify(token: string): Promise<VerifiedAccessToken>
  /**
   * The fast path of a verified-token cache: the result for this exact token when the cache
   * can serve it right now without any I/O (it verified before, is unexpired, and its key is
   * still in the fresh key set); undefined otherwise, then call {@link verify}. Every token it
   * returns a result for is a well-formed compact JWS.
   */
  cached?(token: string): VerifiedAccessToken | undefined
  /** The cache's counters; null when the cache is off. */
  readonly cache: VerifiedTokenCacheStats | null
}

/** Results are shared between requests by the cache: nobody may change one. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}

/** RFC 9068 §4: `at+jwt`, or its full media type; compared exactly. */
const accessTokenTypes = new Set(['at+jwt', 'application/at+jwt'])

/**
 * Creates a verifier of our access tokens (SPEC §5, §10; checklist R01–R22).
 * Checks, in order: compact JWS format (canonical base64url); header (alg allow-listed,
 * `typ` at+jwt, string `kid`, no crit/b64/jku/jwk/x5u/x5c); signature with the key of
 * that kid and alg (node:crypto, synchronous: see src/jws/verify-signature.ts); `iss`
 * exact; `aud` contains ours; exp, nbf, iat (not in the future) with the tolerance;
 * every claim of AccessTokenClaims (src/jwt/check-access-token-claims.ts).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const algorithms = [...(options.algorithms ?? ['ES256'])]
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty')
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none' || alg.startsWith('HS')) throw new TypeError(`algorithm not allowed for access tokens: ${alg}`)
    if (!signatureAlgorithms.includes(alg)) throw new TypeError(`unsupported JWS algorithm: ${alg}`)
  }
  const allowed = new Set(algorithms)
  const tolerance = options.clockToleranceSec ?? 30
  const maxTokenLength = options.maxTokenLength ?? 8192
  const now = options.now ?? Date.now
  const keySet = options.keySet
  const audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience]
  const checkClaims = createClaimsCheck({ issuer: options.issuer, audience, toleranceSec: tolerance })

  const fail = (code: TokenVerifierErrorCode, cause?: unknown): never => {
    throw new TokenVerifierError(code, { cause })
  }
  const invalid = (reason: string): never => fail(TokenVerifierErrorCode.tokenInvalid, new Error(reason))

  /** Every check, and the key the signature was verified with (the cache serves a token only while that key stays). */
  async function verifyFully(token: string): Promise<KeyedVerification> {
    const jws = decodeCompactJws(token, maxTokenLength)
    if (!jws.ok) {
      return fail(jws.malformed ? TokenVerifierErrorCode.tokenMalformed : TokenVerifierErrorCode.tokenInvalid, new Error(jws.reason))
    }
    const header = jws.header
    const { alg, typ, kid } = header
    if (typeof alg !== 'string' || !allowed.has(alg)) return invalid('alg not allowed')
    if (typeof typ !== 'string' || !accessTokenTypes.has(typ)) return invalid('typ is not at+jwt')
    if (typeof kid !== 'string' || kid.length === 0) return invalid('kid missing')

    const nowMs = now()
    let key: CryptoKey
    try {
      key = await keySet.getKey(header)
    } catch (error) {
      // ERR_JWKS_NO_MATCHING_KEY and ERR_JWKS_UNAVAILABLE as they are; a resolver's own failure means invalid.
      if (error instanceof TokenVerifierError) throw error
      return fail(TokenVerifierErrorCode.tokenInvalid, error)
    }
    // The key set ties each key to one alg (its JWK's, or the one its kty/crv fits); the signature step checks the key fits alg again.
    const signature = segmentBytes(token, jws.signatureAt, token.length)
    const verified = verifySignature(alg, key, token.slice(0, jws.signatureAt - 1), signature)
    if (verified !== true && (verified === false || !(await verified))) return invalid('signature does not verify')

    let payload: unknown
    try {
      payload = parseUtf8Json(segmentBytes(token, jws.payloadAt, jws.signatureAt - 1))
    } catch {
      return invalid('claims are not UTF-8 JSON')
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return invalid('claims are not a JSON object')
    const checked = checkClaims(payload as Record<string, unknown>, Math.floor(nowMs / 1000))
    if (!checked.ok) return fail(checked.expired ? TokenVerifierErrorCode.tokenExpired : TokenVerifierErrorCode.tokenInvalid, new Error(checked.reason))
    const claims = checked.claims

    const result: VerifiedAccessToken = deepFreeze({
      sub: claims.sub,
      scope: claims.scope.split(' ').filter((s) => s.length > 0),
      roles: claims.roles,
      client_id: claims.client_id,
      sid: claims.sid,
      jti: claims.jti,
      exp: claims.exp,
      iat: claims.iat,
      email: claims.email,
      claims,
      header: { alg, kid, typ },
    })
    return { result, key }
  }

  const verifyUncached = async (token: string) => (await verifyFully(token)).result
  if (options.cache === false) return { verify: verifyUncached, cache: null }

  const cached = cacheVerifiedTokens(verifyFully, {
    keySet,
    now,
    clockToleranceSec: tolerance,
    maxEntries: options.cache?.maxEntries ?? defaultCacheMaxEntries,
  })
  // Anything that cannot be a token never reaches the cache's maps.
  const cacheable = (token: unknown): token is string => typeof token === 'string' && token.length <= maxTokenLength
  return {
    verify: (token) => (cacheable(token) ? cached.verify(token) : verifyUncached(token)),
    cached: (token) => (cacheable(token) ? cached.cached(token) : undefined),
    cache: cached.stats,
  }
}
