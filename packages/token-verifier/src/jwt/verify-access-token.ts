import { errors as joseErrors, jwtVerify, type CryptoKey } from 'jose'
import { Compile } from 'typebox/compile'
import { AccessTokenClaims } from '@todo-auth/contracts'
import { TokenVerifierError, TokenVerifierErrorCode } from '../errors.ts'
import type { RemoteKeySet } from '../jwks/remote-key-set.ts'
import type { KeyResolver, VerifiedAccessToken } from './access-token.types.ts'
import { checkRegisteredClaims, verifyCompactJws } from './compact-signature.ts'
import { inspectCompactJws } from './inspect-compact-jws.ts'
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
   * The verified-token cache: on by default (`{ maxEntries: 10_000, admission: 'second-use' }`); `false` turns it off.
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

/** Claims every access token carries (SPEC §5), besides iss and aud. */
const requiredClaims = ['exp', 'iat', 'sub', 'jti', 'client_id', 'scope'] as const

/** RFC 9068 §4: `at+jwt`, or its full media type; compared exactly. */
const accessTokenTypes = new Set(['at+jwt', 'application/at+jwt'])

/**
 * Creates a verifier of our access tokens (SPEC §5, §10; checklist R01–R22).
 * Checks, in order: compact JWS format; header (alg allow-listed, `typ` at+jwt,
 * string `kid`, no crit/b64/jku/jwk/x5u/x5c); signature with the key of that
 * kid and alg; `iss` exact; `aud` contains ours; exp, nbf, iat (not in the
 * future) with the tolerance; every claim of AccessTokenClaims.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const algorithms = [...(options.algorithms ?? ['ES256'])]
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty')
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none' || alg.startsWith('HS')) throw new TypeError(`algorithm not allowed for access tokens: ${alg}`)
  }
  const allowed = new Set(algorithms)
  const tolerance = options.clockToleranceSec ?? 30
  const maxTokenLength = options.maxTokenLength ?? 8192
  const now = options.now ?? Date.now
  const keySet = options.keySet
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience]
  const claimsValidator = Compile(AccessTokenClaims)
  const claimRules = { issuer: options.issuer, audience, required: requiredClaims, toleranceSec: tolerance }

  const fail = (code: TokenVerifierErrorCode, cause?: unknown): never => {
    throw new TokenVerifierError(code, { cause })
  }

  const mapError = (error: unknown): never => {
    if (error instanceof TokenVerifierError) throw error
    if (error instanceof joseErrors.JWTExpired) return fail(TokenVerifierErrorCode.tokenExpired, error)
    return fail(TokenVerifierErrorCode.tokenInvalid, error)
  }

  /** Every check, and the key the signature was verified with (the cache serves a token only while that key stays). */
  async function verifyFully(token: string): Promise<KeyedVerification> {
    const inspected = inspectCompactJws(token, maxTokenLength)
    if (!inspected.ok) {
      const malformed = inspected.reason.startsWith('header member') ? TokenVerifierErrorCode.tokenInvalid : TokenVerifierErrorCode.tokenMalformed
      return fail(malformed, new Error(inspected.reason))
    }
    const header = inspected.header
    const { alg, typ, kid } = header
    if (typeof alg !== 'string' || !allowed.has(alg)) return fail(TokenVerifierErrorCode.tokenInvalid, new Error('alg not allowed'))
    if (typeof typ !== 'string' || !accessTokenTypes.has(typ)) return fail(TokenVerifierErrorCode.tokenInvalid, new Error('typ is not at+jwt'))
    if (typeof kid !== 'string' || kid.length === 0) return fail(TokenVerifierErrorCode.tokenInvalid, new Error('kid missing'))

    const nowMs = now()
    let payload: unknown
    let usedKey: CryptoKey | undefined
    if (alg === 'ES256') {
      // Our own algorithm: WebCrypto directly, with jwtVerify's checks (compact-signature.ts).
      try {
        usedKey = await keySet.getKey(header)
        const claims = await verifyCompactJws(token, usedKey, 'ES256')
        checkRegisteredClaims(claims, claimRules, Math.floor(nowMs / 1000))
        payload = claims
      } catch (error) {
        return mapError(error)
      }
    } else {
      try {
        const result = await jwtVerify(token, async (protectedHeader) => (usedKey = await keySet.getKey(protectedHeader)), {
          algorithms,
          issuer: options.issuer,
          audience,
          clockTolerance: tolerance,
          currentDate: new Date(nowMs),
          requiredClaims: [...requiredClaims],
          typ: 'at+jwt',
        })
        payload = result.payload
      } catch (error) {
        return mapError(error)
      }
    }
    if (!claimsValidator.Check(payload)) return fail(TokenVerifierErrorCode.tokenInvalid, new Error('claims do not match AccessTokenClaims'))
    // jose checks iat only with maxTokenAge; a token from the future is refused (R11).
    if (payload.iat > Math.floor(nowMs / 1000) + tolerance) return fail(TokenVerifierErrorCode.tokenInvalid, new Error('iat in the future'))

    const result: VerifiedAccessToken = deepFreeze({
      sub: payload.sub,
      scope: payload.scope.split(' ').filter((s) => s.length > 0),
      roles: payload.roles,
      client_id: payload.client_id,
      sid: payload.sid,
      jti: payload.jti,
      exp: payload.exp,
      iat: payload.iat,
      email: payload.email,
      claims: payload,
      header: { alg, kid, typ },
    })
    return { result, key: usedKey! }
  }

  const verifyUncached = async (token: string) => (await verifyFully(token)).result
  if (options.cache === false) return { verify: verifyUncached, cache: null }

  const cached = cacheVerifiedTokens(verifyFully, {
    keySet,
    now,
    clockToleranceSec: tolerance,
    maxEntries: options.cache?.maxEntries ?? defaultCacheMaxEntries,
    admission: options.cache?.admission ?? 'second-use',
  })
  // Anything that cannot be a token never reaches the cache's maps.
  const cacheable = (token: unknown): token is string => typeof token === 'string' && token.length <= maxTokenLength
  return {
    verify: (token) => (cacheable(token) ? cached.verify(token) : verifyUncached(token)),
    cached: (token) => (cacheable(token) ? cached.cached(token) : undefined),
    cache: cached.stats,
  }
}
