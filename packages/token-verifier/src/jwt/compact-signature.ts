import { webcrypto } from 'node:crypto'
import type { CryptoKey } from 'jose'
import { TokenVerifierError, TokenVerifierErrorCode } from '../errors.ts'

// ES256 (the algorithm token-service signs with, SPEC §5) and EdDSA (Ed25519, the algorithm BetterAuth
// signs its JWTs with, SPEC §2) verified straight through WebCrypto, the same `subtle.verify` call jose's
// jwtVerify ends in, without the rest of jwtVerify's work per token (a second decode of the header, the
// signing input rebuilt from three encodes, option parsing and claim-set validation written for every JWT
// profile): 110 against 144-158 µs of CPU per ES256 token in-process (docs/performance.md, "Cache miss").
// The checks are jwtVerify's, in jwtVerify's order, so that every token gets the same answer and the same
// error code (test/jwt/compact-signature.test.ts runs every case through both).

/** The algorithms verified here, with WebCrypto's parameters and the key each needs (jose's checkCryptoKey). */
const directAlgorithms = {
  ES256: { params: { name: 'ECDSA', hash: 'SHA-256' }, keyName: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { params: { name: 'Ed25519' }, keyName: 'Ed25519', namedCurve: undefined },
} as const

export type DirectAlgorithm = keyof typeof directAlgorithms

/** Whether `alg` is verified by {@link verifyCompactJws} (the others go through jose's jwtVerify). */
export const isDirectAlgorithm = (alg: unknown): alg is DirectAlgorithm => typeof alg === 'string' && Object.hasOwn(directAlgorithms, alg)

const utf8 = new TextDecoder('utf-8', { fatal: true })

const invalid = (reason: string): never => {
  throw new TokenVerifierError(TokenVerifierErrorCode.tokenInvalid, { cause: new Error(reason) })
}

/** jose's isObject: a plain object (JSON.parse makes no other kind of object, bar arrays). */
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Object]' && !Array.isArray(value)

/**
 * The signature of a compact JWS (already checked to be three base64url segments, `alg` read from its
 * header) with a key for `alg`, then its payload as a JSON object. Refuses, as jose does: a key that is
 * not a verification key of `alg`'s kind (ECDSA P-256, Ed25519), a signature that is not 64 raw bytes or
 * does not verify (or that WebCrypto refuses to verify), a payload that is not base64url of UTF-8
 * JSON of an object. Every refusal is ERR_TOKEN_INVALID.
 */
export async function verifyCompactJws(token: string, key: CryptoKey, alg: DirectAlgorithm): Promise<Record<string, unknown>> {
  const expected = directAlgorithms[alg]
  const algorithm = key.algorithm as { name?: string; namedCurve?: string }
  if (algorithm.name !== expected.keyName || algorithm.namedCurve !== expected.namedCurve || !key.usages.includes('verify')) return invalid(`key is not an ${alg} verification key`)
  const payloadStart = token.indexOf('.') + 1
  const signatureStart = token.lastIndexOf('.') + 1
  // 86 base64url characters are 64 bytes (ES256's r‖s, an Ed25519 signature); a length of 1 mod 4 is no base64url at all.
  const signature = Buffer.from(token.slice(signatureStart), 'base64url')
  if (signature.length !== 64) return invalid('signature is not 64 bytes')
  // The signing input is ASCII (checked by the compact-form pattern): latin1 writes it byte for byte.
  let verified: boolean
  try {
    verified = await webcrypto.subtle.verify(expected.params, key, signature, Buffer.from(token.slice(0, signatureStart - 1), 'latin1'))
  } catch (cause) {
    // WebCrypto refusing the key or the input: jose answers JWSSignatureVerificationFailed, so an invalid token.
    throw new TokenVerifierError(TokenVerifierErrorCode.tokenInvalid, { cause })
  }
  if (!verified) return invalid('signature verification failed')
  const encodedPayload = token.slice(payloadStart, signatureStart - 1)
  if (encodedPayload.length % 4 === 1) return invalid('payload is not base64url')
  let payload: unknown
  try {
    payload = JSON.parse(utf8.decode(Buffer.from(encodedPayload, 'base64url')))
  } catch (cause) {
    throw new TokenVerifierError(TokenVerifierErrorCode.tokenInvalid, { cause })
  }
  if (!isPlainObject(payload)) return invalid('claims are not a JSON object')
  return payload
}

/** What {@link checkRegisteredClaims} requires: jwtVerify's options of the same names. */
export interface RegisteredClaimRules {
  issuer: string
  /** A string: exactly this one; a list: any of these. */
  audience: string | readonly string[]
  /** Claims that must be present (jwtVerify's requiredClaims). */
  required: readonly string[]
  toleranceSec: number
  /** jwtVerify's maxTokenAge in seconds: iat required, not older than this, not in the future (beyond the tolerance). */
  maxTokenAgeSec?: number
}

/**
 * jose's claim-set checks for these options, in its order: the required claims (iat too with a
 * maximum age) and iss and aud present, iss exact, aud containing one of ours, iat and nbf numbers
 * when present, nbf not after now + tolerance, exp a number and after now - tolerance, iat within
 * the maximum age and not in the future (too old and expired: ERR_TOKEN_EXPIRED, as jose's
 * JWTExpired; everything else ERR_TOKEN_INVALID).
 */
export function checkRegisteredClaims(claims: Record<string, unknown>, options: RegisteredClaimRules, nowSec: number): void {
  const { maxTokenAgeSec } = options
  for (const name of options.required) if (!Object.hasOwn(claims, name)) invalid(`missing required "${name}" claim`)
  if (maxTokenAgeSec !== undefined && !Object.hasOwn(claims, 'iat')) invalid('missing required "iat" claim')
  if (!Object.hasOwn(claims, 'aud')) invalid('missing required "aud" claim')
  if (!Object.hasOwn(claims, 'iss')) invalid('missing required "iss" claim')
  if (claims.iss !== options.issuer) invalid('unexpected "iss" claim value')
  const { aud } = claims
  const audience = options.audience
  const ours = (value: unknown) => (typeof audience === 'string' ? value === audience : audience.includes(value as string))
  if (!(typeof aud === 'string' ? ours(aud) : Array.isArray(aud) && aud.some(ours))) invalid('unexpected "aud" claim value')
  if (claims.iat !== undefined && typeof claims.iat !== 'number') invalid('"iat" claim must be a number')
  const { nbf, exp } = claims
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') invalid('"nbf" claim must be a number')
    if ((nbf as number) > nowSec + options.toleranceSec) invalid('"nbf" claim timestamp check failed')
  }
  if (exp !== undefined) {
    if (typeof exp !== 'number') invalid('"exp" claim must be a number')
    if ((exp as number) <= nowSec - options.toleranceSec) {
      throw new TokenVerifierError(TokenVerifierErrorCode.tokenExpired, { cause: new Error('"exp" claim timestamp check failed') })
    }
  }
  if (maxTokenAgeSec !== undefined) {
    // Present (above) and, if present, a number (above).
    const age = nowSec - (claims.iat as number)
    if (age - options.toleranceSec > maxTokenAgeSec) {
      throw new TokenVerifierError(TokenVerifierErrorCode.tokenExpired, { cause: new Error('"iat" claim timestamp check failed (too far in the past)') })
    }
    if (age < -options.toleranceSec) invalid('"iat" claim timestamp check failed (it should be in the past)')
  }
}
