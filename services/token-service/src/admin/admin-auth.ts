import { createHash, timingSafeEqual } from 'node:crypto'

export type AdminAuthResult = { ok: true } | { ok: false; reason: 'missing_credentials' | 'malformed_credentials' | 'wrong_token' }

/**
 * Checks `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed to 32
 * bytes first, so timingSafeEqual compares equal lengths and the time taken
 * says nothing about the token's length or content (checklist R34). The
 * scheme name is case-insensitive (RFC 7235 §2.1); otherwise the format is
 * strict (one space, one b64token-like credential) so parsing has no ambiguity.
 */
export function createAdminAuthenticator(adminToken: string): (authorization: string | string[] | undefined) => AdminAuthResult {
  const expected = sha256(adminToken)
  return (authorization) => {
    if (authorization === undefined || authorization === '') return { ok: false, reason: 'missing_credentials' }
    if (typeof authorization !== 'string') return { ok: false, reason: 'malformed_credentials' }
    const match = /^bearer ([\x21-\x7E]+)$/i.exec(authorization)
    if (!match) return { ok: false, reason: 'malformed_credentials' }
    return timingSafeEqual(sha256(match[1]!), expected) ? { ok: true } : { ok: false, reason: 'wrong_token' }
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
