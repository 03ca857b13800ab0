import { MatchersV3 } from '@pact-foundation/pact'
// Builder types pact-js does not re-export from its root.
import type { V4RequestBuilder, V4ResponseBuilder } from '@pact-foundation/pact/src/v4/http/types.js'

/**
 * An `application/x-www-form-urlencoded` request body with matchers and
 * provider-state values. Pact's core supports form bodies (it takes them as a
 * JSON object of fields and writes the encoded form into the pact), but
 * pact-js 17's builder exposes only binary bodies for them, which cannot carry
 * matching rules. This reaches the same core call jsonBody() uses, with the
 * form content type; every other builder call stays public API.
 */
export function formBody(builder: V4RequestBuilder, fields: Record<string, unknown>): V4RequestBuilder {
  const interaction = (builder as unknown as { interaction: { withRequestBody(body: string, contentType: string): void } }).interaction
  interaction.withRequestBody(JSON.stringify(fields), 'application/x-www-form-urlencoded')
  return builder
}

/**
 * Rules on one response header, all of which must hold (pact combines them
 * with AND). Used for Set-Cookie, whose attributes a server may write in any
 * order: one partial regex per attribute states each without fixing the order.
 */
export function headerRules(builder: V4ResponseBuilder, header: string, patterns: readonly string[]): V4ResponseBuilder {
  return builder.matchingRules({
    header: [{ path: header, rules: patterns.map((pattern) => ({ 'pact:matcher:type': 'regex', regex: pattern })) }],
  })
}

/** A base64url string of at least `min` characters (a JWK coordinate, an opaque token). */
export const base64url = (example: string, min = 1) => MatchersV3.regex(`^[A-Za-z0-9_-]{${min},}$`, example)

/** A compact JWS: three base64url segments. */
export const compactJws = (example: string) => MatchersV3.regex('^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', example)

/** RFC 3339 date-time as JavaScript's toISOString() writes it. */
export const isoDateTime = (example: string) => MatchersV3.regex('^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$', example)

export const uuid = (example: string) => MatchersV3.regex('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', example)

/** A JSON media type, charset optional. */
export const jsonContentType = MatchersV3.regex('^application/json(;\\s*charset=utf-8)?$', 'application/json; charset=utf-8')
export const problemContentType = MatchersV3.regex('^application/problem\\+json(;\\s*charset=utf-8)?$', 'application/problem+json; charset=utf-8')
