/**
 * Which key type (and curve) each supported JWS algorithm needs (RFC 7518
 * §3.1, RFC 8037 §3.1). HMAC and `none` are absent on purpose: a key set
 * fetched over the network only ever holds public keys (checklist R03).
 */
const keyTypeByAlgorithm: Readonly<Record<string, { kty: string; crv?: string }>> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
}

/** The asymmetric JWS algorithms a remote key set may be configured with. */
export const supportedAlgorithms: readonly string[] = Object.freeze(Object.keys(keyTypeByAlgorithm))

export function isSupportedAlgorithm(alg: string): boolean {
  return Object.hasOwn(keyTypeByAlgorithm, alg)
}

/** True when a JWK of this `kty`/`crv` may be used with `alg`. Case-sensitive. */
export function keyFitsAlgorithm(jwk: { kty?: unknown; crv?: unknown }, alg: string): boolean {
  if (!Object.hasOwn(keyTypeByAlgorithm, alg)) return false
  const wanted = keyTypeByAlgorithm[alg]!
  if (jwk.kty !== wanted.kty) return false
  return wanted.crv === undefined || jwk.crv === wanted.crv
}

const publicMembers: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
  RSA: ['n', 'e'],
}

/**
 * Copies only the public members of a JWK, listed explicitly, so a private
 * member published by mistake (`d`, `p`, …) is never imported. Undefined when
 * a required member is missing or not a string.
 */
export function publicJwk(jwk: Record<string, unknown>): Record<string, string> | undefined {
  const kty = jwk.kty
  if (typeof kty !== 'string' || !Object.hasOwn(publicMembers, kty)) return undefined
  const out: Record<string, string> = { kty }
  for (const member of publicMembers[kty]!) {
    const value = jwk[member]
    if (typeof value !== 'string' || value.length === 0) return undefined
    out[member] = value
  }
  return out
}
