/** RFC 7515 §7.1 compact serialization: three base64url segments, nothing else (R07). */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/** Header members that would make us trust key material or processing rules named by the token (R04, R06). */
const forbiddenHeaderMembers = ['crit', 'b64', 'jku', 'jwk', 'x5u', 'x5c'] as const
const utf8 = new TextDecoder('utf-8', { fatal: true })

export type CompactJwsInspection = { readonly ok: true; readonly header: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly reason: string }

/**
 * The checks that come before any signature work, shared by every verifier of
 * ours: a compact JWS no longer than `maxLength`, whose header is a UTF-8 JSON
 * object (R09) without crit/b64/jku/jwk/x5u/x5c. `reason` is for logs only.
 */
export function inspectCompactJws(token: unknown, maxLength: number): CompactJwsInspection {
  if (typeof token !== 'string' || token.length > maxLength || !compactJws.test(token)) return { ok: false, reason: 'not a compact JWS' }
  let header: unknown
  try {
    header = JSON.parse(utf8.decode(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url')))
  } catch {
    return { ok: false, reason: 'header is not UTF-8 JSON' }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { ok: false, reason: 'header is not a JSON object' }
  for (const member of forbiddenHeaderMembers) {
    if (Object.hasOwn(header, member)) return { ok: false, reason: `header member ${member} refused` }
  }
  return { ok: true, header: header as Record<string, unknown> }
}
