import { createPublicKey, verify } from 'node:crypto'
import { createVerifier } from 'fast-jwt'

// The peers of token-verifier's cache-miss path, each built once from the issuer's JWKS, each checking
// alg, typ, iss, aud, exp and nbf of every token: used by their bench servers (on the route) and by
// the in-process loops of verifier-raw.ts, so both measure the same code.

export interface PeerOptions {
  jwk: Record<string, string>
  issuer: string
  audience: string
}

/** Seconds, as token-verifier's default. */
const toleranceSec = 30

/** The issuer's JWKS document, fetched once. */
export async function fetchJwk(jwksUrl: string): Promise<Record<string, string>> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: Array<Record<string, string>> }
  return keys[0]!
}

/**
 * fast-jwt's createVerifier: ES256, the public key converted from the JWK to PEM once, allowedIss,
 * allowedAud, typ at+jwt, the claims token-verifier requires, no fast-jwt cache. Throws on a bad token.
 */
export function fastJwtVerifier({ jwk, issuer, audience }: PeerOptions): (token: string) => { sub: string } {
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
  return createVerifier({
    key: pem,
    algorithms: ['ES256'],
    allowedIss: issuer,
    allowedAud: audience,
    checkTyp: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id', 'scope'],
    clockTolerance: toleranceSec * 1000,
    cache: false,
  }) as (token: string) => { sub: string }
}

/**
 * The minimal correct verifier, node:crypto only: the KeyObject made once; per token split the
 * compact JWS, verify the ES256 signature (R‖S, exactly 64 bytes) over header.payload, parse header
 * and payload, check alg, kid, typ, iss, aud, exp and nbf. Undefined for a bad token (or throws on
 * bytes that are not JSON).
 */
export function nodeCryptoVerifier({ jwk, issuer, audience }: PeerOptions): (token: string) => { sub: string } | undefined {
  const signatureKey = { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' as const }
  return (token) => {
    const firstDot = token.indexOf('.')
    const secondDot = token.indexOf('.', firstDot + 1)
    if (firstDot < 1 || secondDot < 0 || token.indexOf('.', secondDot + 1) !== -1) return undefined
    const signature = Buffer.from(token.slice(secondDot + 1), 'base64url')
    if (signature.length !== 64) return undefined
    if (!verify('sha256', Buffer.from(token.slice(0, secondDot), 'latin1'), signatureKey, signature)) return undefined
    const header = JSON.parse(Buffer.from(token.slice(0, firstDot), 'base64url').toString())
    if (header.alg !== 'ES256' || header.kid !== jwk.kid || header.typ !== 'at+jwt') return undefined
    const payload = JSON.parse(Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString())
    const now = Math.floor(Date.now() / 1000)
    if (payload.iss !== issuer || payload.aud !== audience || typeof payload.sub !== 'string') return undefined
    if (typeof payload.exp !== 'number' || payload.exp <= now - toleranceSec) return undefined
    if (payload.nbf !== undefined && !(typeof payload.nbf === 'number' && payload.nbf <= now + toleranceSec)) return undefined
    return payload
  }
}
