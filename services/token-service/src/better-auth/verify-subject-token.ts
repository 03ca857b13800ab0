import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { checkRegisteredClaims, createRemoteKeySet, inspectCompactJws, isDirectAlgorithm, isTokenVerifierError, TokenVerifierErrorCode, verifyCompactJws, type KeySetEvent, type RemoteKeySet } from '@todo-auth/token-verifier'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import { InvalidGrant, TemporarilyUnavailable } from '../errors.ts'
import { mapRoles } from './map-roles.ts'

/** What we take from a verified BetterAuth JWT, and nothing more (R26). */
export interface UpstreamIdentity {
  /** BetterAuth user id. */
  sub: string
  email: string
  roles: string[]
}

/** A verified subject token: the identity, and the token's own exp and jti (what the replay limit counts it by; never stored). */
export interface VerifiedSubjectToken extends UpstreamIdentity {
  /** Seconds since the epoch; verified present and a number. */
  readonly exp: number
  readonly jti: unknown
}

export interface SubjectTokenVerifier {
  /**
   * Verifies a BetterAuth JWT (SPEC §2). Rejects with InvalidGrant for any bad
   * token (SPEC §3.3) and TemporarilyUnavailable when BetterAuth's keys cannot
   * be fetched and nothing usable is cached.
   */
  verify(token: string): Promise<VerifiedSubjectToken>
  /** Fetches the key set now (start-up warm-up); never throws. */
  warmUp(): Promise<void>
  readonly keySet: RemoteKeySet
}

export type SubjectTokenConfig = Pick<
  Config,
  'BETTER_AUTH_JWKS_URL' | 'BETTER_AUTH_ISSUER' | 'BETTER_AUTH_AUDIENCE' | 'BETTER_AUTH_ALGORITHMS' | 'BETTER_AUTH_JWKS_TIMEOUT' | 'BETTER_AUTH_JWKS_COOLDOWN' | 'BETTER_AUTH_JWKS_STALE_IF_ERROR' | 'SUBJECT_TOKEN_MAX_AGE' | 'CLOCK_TOLERANCE'
>

const maxTokenLength = 8192
/** One answer for every bad token: no oracle telling which check failed (R20); the reason goes to the logs. */
const invalid = (reason: string) => new InvalidGrant('the subject token is invalid', { cause: new Error(reason) })

export function createSubjectTokenVerifier(config: SubjectTokenConfig, deps: { clock: Clock; fetch?: typeof globalThis.fetch; onKeySetEvent?: (event: KeySetEvent) => void }): SubjectTokenVerifier {
  const algorithms = [...config.BETTER_AUTH_ALGORITHMS]
  const keySet = createRemoteKeySet({
    url: config.BETTER_AUTH_JWKS_URL,
    algorithms,
    timeoutMs: config.BETTER_AUTH_JWKS_TIMEOUT,
    cooldownMs: config.BETTER_AUTH_JWKS_COOLDOWN,
    staleIfErrorMs: config.BETTER_AUTH_JWKS_STALE_IF_ERROR * 1000,
    now: () => deps.clock.now(),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.onKeySetEvent ? { onEvent: deps.onKeySetEvent } : {}),
  })

  // The claim rules, for both paths: required exp, iat and sub, and a maximum age, which also refuses an
  // iat in the future (R11, R25).
  const claimRules = {
    issuer: config.BETTER_AUTH_ISSUER,
    audience: config.BETTER_AUTH_AUDIENCE,
    required: ['exp', 'iat', 'sub'],
    toleranceSec: config.CLOCK_TOLERANCE,
    maxTokenAgeSec: config.SUBJECT_TOKEN_MAX_AGE,
  }
  const directAlgorithms = new Set(algorithms.filter(isDirectAlgorithm))

  /**
   * The signature and jwtVerify's claim checks: EdDSA (what BetterAuth signs with) and ES256 straight
   * through WebCrypto with the same checks in the same order (@todo-auth/token-verifier's
   * verifyCompactJws and checkRegisteredClaims, tested against jose case by case), any other allowed
   * algorithm through jose's jwtVerify.
   */
  async function verifySignatureAndClaims(token: string, header: Readonly<Record<string, unknown>>): Promise<JWTPayload> {
    try {
      const { alg } = header
      if (isDirectAlgorithm(alg) && directAlgorithms.has(alg)) {
        const claims = await verifyCompactJws(token, await keySet.getKey(header), alg)
        checkRegisteredClaims(claims, claimRules, Math.floor(deps.clock.now() / 1000))
        return claims
      }
      const { payload } = await jwtVerify(token, (protectedHeader) => keySet.getKey(protectedHeader), {
        algorithms,
        issuer: claimRules.issuer,
        audience: claimRules.audience,
        clockTolerance: claimRules.toleranceSec,
        maxTokenAge: claimRules.maxTokenAgeSec,
        requiredClaims: claimRules.required,
        currentDate: new Date(deps.clock.now()),
      })
      return payload
    } catch (error) {
      if (isTokenVerifierError(error, TokenVerifierErrorCode.jwksUnavailable)) {
        throw new TemporarilyUnavailable('the identity provider cannot be reached', { cause: error.cause ?? error })
      }
      // The check that failed, for the log; not a JSON parser's message, which quotes the payload.
      if (isTokenVerifierError(error)) throw invalid(error.cause instanceof Error && !(error.cause instanceof SyntaxError) ? `${error.code}: ${error.cause.message}` : error.code)
      // jose's claim errors carry the whole payload: log only the code and message.
      if (error instanceof joseErrors.JOSEError) throw invalid(`${error.code}: ${error.message}`)
      throw error
    }
  }

  async function verify(token: string): Promise<VerifiedSubjectToken> {
    const inspected = inspectCompactJws(token, maxTokenLength)
    if (!inspected.ok) throw invalid(inspected.reason)
    const payload = await verifySignatureAndClaims(token, inspected.header)

    // Exact audience: exactly ours, no extra audiences we would have to trust (R24).
    const aud = payload.aud
    if (Array.isArray(aud) && (aud.length !== 1 || aud[0] !== config.BETTER_AUTH_AUDIENCE)) throw invalid('aud has other members')
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) throw invalid('sub is not a string')
    const email: unknown = payload.email
    if (typeof email !== 'string' || email.length > 320) throw invalid('email is not a string')
    // BetterAuth's admin plugin puts `banned` in the user row it signs; a banned user gets no tokens.
    if (payload.banned === true) throw invalid('user is banned')
    const roles = mapRoles(payload.role)
    if (roles === undefined) throw invalid('role claim is malformed')
    // exp: required and a number (checked above).
    return { sub: payload.sub, email, roles, exp: payload.exp!, jti: payload.jti }
  }

  return {
    verify,
    keySet,
    async warmUp() {
      await keySet.refresh().catch(() => undefined)
    },
  }
}
