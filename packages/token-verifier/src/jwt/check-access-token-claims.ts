import { Compile } from 'typebox/compile'
import { AccessTokenClaims } from '@todo-auth/contracts'

// The claims of a verified access token (RFC 9068 §4, RFC 7519 §4.1), checked in jose's order
// (jwtVerify's validateClaimsSet, which this package used before) so every token gets the same
// answer as then: required claims present, iss, aud, iat and nbf numbers, nbf, exp (the only check
// that says "expired"), then every claim of the contracts' AccessTokenClaims, then iat not in the future.

export type ClaimsCheck = { readonly ok: true; readonly claims: AccessTokenClaims } | { readonly ok: false; readonly expired: boolean; readonly reason: string }

/** What {@link createClaimsCheck} compares the claims with; times in whole seconds. */
export interface ClaimsCheckOptions {
  /** The exact `iss`. */
  issuer: string
  /** `aud` must contain one of them. */
  audience: readonly string[]
  /** Leeway for exp, nbf and iat, in seconds (finite, ≥ 0). */
  toleranceSec: number
}

const required = ['iss', 'aud', 'scope', 'client_id', 'jti', 'sub', 'iat', 'exp'] as const

const refuse = (reason: string, expired = false): ClaimsCheck => ({ ok: false, expired, reason })

/** A check of decoded claims at `nowSec` (seconds since the epoch, whole). */
export function createClaimsCheck(options: ClaimsCheckOptions): (claims: Record<string, unknown>, nowSec: number) => ClaimsCheck {
  const { issuer, audience, toleranceSec: tolerance } = options
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('clockToleranceSec must be a finite number ≥ 0')
  const validator = Compile(AccessTokenClaims)
  const audienceFits = (aud: unknown) => (typeof aud === 'string' ? audience.includes(aud) : Array.isArray(aud) && audience.some((wanted) => aud.includes(wanted)))

  return (claims, nowSec) => {
    for (const claim of required) {
      if (!Object.hasOwn(claims, claim)) return refuse(`missing ${claim}`)
    }
    if (claims.iss !== issuer) return refuse('unexpected iss')
    if (!audienceFits(claims.aud)) return refuse('unexpected aud')
    if (typeof claims.iat !== 'number') return refuse('iat is not a number')
    const { nbf, exp } = claims
    if (nbf !== undefined && typeof nbf !== 'number') return refuse('nbf is not a number')
    if (nbf !== undefined && nbf > nowSec + tolerance) return refuse('nbf in the future')
    if (typeof exp !== 'number') return refuse('exp is not a number')
    if (exp <= nowSec - tolerance) return refuse('expired', true)
    if (!validator.Check(claims)) return refuse('claims do not match AccessTokenClaims')
    // A token from the future is refused too (R11).
    if (claims.iat > nowSec + tolerance) return refuse('iat in the future')
    return { ok: true, claims }
  }
}
