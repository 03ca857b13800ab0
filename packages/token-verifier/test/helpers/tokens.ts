import { randomUUID, webcrypto } from 'node:crypto'
import { SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import type { SigningKey } from './jwks-server.ts'

export const issuer = 'http://localhost:8080'
export const audience = 'todo-api'

/** The claims token-service puts in an access token (SPEC §5), valid at `nowSec`. */
export function accessClaims(nowSec: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: issuer,
    sub: 'user-1',
    aud: audience,
    iat: nowSec,
    exp: nowSec + 900,
    jti: randomUUID(),
    client_id: 'cli',
    scope: 'todos:read todos:write',
    sid: 'session-1',
    email: 'one@example.com',
    roles: ['user'],
    ...overrides,
  }
}

/** Signs an access token with jose, dropping claims listed in `omit`. */
export async function mintAccessToken(key: SigningKey, options: { nowSec: number; claims?: Record<string, unknown>; header?: Record<string, unknown>; omit?: string[] }): Promise<string> {
  const claims = accessClaims(options.nowSec, options.claims)
  for (const name of options.omit ?? []) delete claims[name]
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header } as { alg: string }).sign(key.privateKey)
}

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64url')

/**
 * Builds a compact JWS by hand, so a test can produce what jose would refuse to
 * sign: raw header JSON (duplicate members, crit, b64), any payload bytes.
 */
export async function signRaw(privateKey: CryptoKey, headerJson: string, payload: string | Uint8Array): Promise<string> {
  const input = `${b64(headerJson)}.${b64(payload)}`
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey as webcrypto.CryptoKey, Buffer.from(input))
  return `${input}.${b64(new Uint8Array(signature))}`
}

export const encodeSegment = b64
