/** RFC 7515 §7.1 compact serialization: three base64url segments, nothing else (R07). */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/** Header members that would make us trust key material or processing rules named by the token (R04, R06). */
const forbiddenHeaderMembers = ['crit', 'b64', 'jku', 'jwk', 'x5u', 'x5c'] as const
const utf8 = new TextDecoder('utf-8', { fatal: true })

export type CompactJwsInspection = { readonly ok: true; readonly header: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly reason: string }

/**
 * A compact JWS split once: its parsed header and where its payload and signature start (after each dot);
 * or why not, `malformed` false when the token has the form but is refused (a forbidden header member, a
 * non-canonical segment: the codes jose gave them before this package checked them itself).
 */
export type DecodedCompactJws =
  | { readonly ok: true; readonly header: Readonly<Record<string, unknown>>; readonly payloadAt: number; readonly signatureAt: number }
  | { readonly ok: false; readonly reason: string; readonly malformed: boolean }

/** The value (0–63) of a base64url character already matched by {@link compactJws}. */
function sextet(code: number): number {
  if (code >= 0x61) return code - 0x61 + 26 // a-z
  if (code >= 0x41) return code === 0x5f ? 63 : code - 0x41 // A-Z, _
  return code === 0x2d ? 62 : code - 0x30 + 52 // -, 0-9
}

/**
 * RFC 7515 §2 / RFC 4648 §3.5: unpadded base64url with no leftover character (a length of 4n + 1
 * encodes no whole byte) and zero bits after the last byte, so one token has exactly one spelling.
 */
function canonicalBase64url(text: string, start: number, end: number): boolean {
  const rest = (end - start) & 3
  if (rest === 0) return true
  if (rest === 1) return false
  return (sextet(text.charCodeAt(end - 1)) & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** One segment of a token checked by {@link decodeCompactJws}, as bytes. */
export const segmentBytes = (token: string, start: number, end: number): Buffer => Buffer.from(token.slice(start, end), 'base64url')

/** JSON.parse of UTF-8 bytes, refusing bytes that are not UTF-8 (R09); throws on either. */
export const parseUtf8Json = (bytes: Uint8Array): unknown => JSON.parse(utf8.decode(bytes))

/**
 * The checks that come before any signature work, shared by every verifier of ours: a compact
 * JWS no longer than `maxLength` whose three segments are canonical base64url, whose header is
 * a UTF-8 JSON object (R09) without crit/b64/jku/jwk/x5u/x5c. `reason` is for logs only.
 */
export function decodeCompactJws(token: unknown, maxLength: number): DecodedCompactJws {
  if (typeof token !== 'string' || token.length > maxLength || !compactJws.test(token)) return { ok: false, reason: 'not a compact JWS', malformed: true }
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  if (!canonicalBase64url(token, 0, firstDot) || !canonicalBase64url(token, firstDot + 1, secondDot) || !canonicalBase64url(token, secondDot + 1, token.length)) {
    return { ok: false, reason: 'not canonical base64url', malformed: false }
  }
  let header: unknown
  try {
    header = parseUtf8Json(segmentBytes(token, 0, firstDot))
  } catch {
    return { ok: false, reason: 'header is not UTF-8 JSON', malformed: true }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { ok: false, reason: 'header is not a JSON object', malformed: true }
  for (const member of forbiddenHeaderMembers) {
    if (Object.hasOwn(header, member)) return { ok: false, reason: `header member ${member} refused`, malformed: false }
  }
  return { ok: true, header: header as Record<string, unknown>, payloadAt: firstDot + 1, signatureAt: secondDot + 1 }
}

/** {@link decodeCompactJws} for a caller that needs the header only (e.g. before jose's jwtVerify). */
export function inspectCompactJws(token: unknown, maxLength: number): CompactJwsInspection {
  const decoded = decodeCompactJws(token, maxLength)
  return decoded.ok ? { ok: true, header: decoded.header } : { ok: false, reason: decoded.reason }
}
