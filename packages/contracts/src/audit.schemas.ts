import Type from 'typebox'

/**
 * The kinds of audit event token-service writes (docs/operations.md §11).
 * token_exchange: a sign-in (RFC 8693 exchange); token_refresh: a rotation;
 * refresh_token_reuse: a spent refresh token presented again, its session ended;
 * token_revoke: RFC 7009 revocation; session_revoke: one session ended from the
 * session list; sign_out_everywhere: every session of the caller ended; admin: an
 * admin API call (or a probe for it on the public listener).
 */
export const AuditType = Type.Union([
  Type.Literal('token_exchange'),
  Type.Literal('token_refresh'),
  Type.Literal('refresh_token_reuse'),
  Type.Literal('token_revoke'),
  Type.Literal('session_revoke'),
  Type.Literal('sign_out_everywhere'),
  Type.Literal('admin'),
])
export type AuditType = Type.Static<typeof AuditType>

const code = Type.String({ pattern: '^[a-z0-9_]{1,64}$' })
const id = Type.String({ minLength: 1, maxLength: 200 })

/**
 * One audit event: one JSON log line, `"event":"audit"`, these members only (besides
 * the logger's level, time, pid, hostname and msg). Never a token, cookie or secret.
 */
export const AuditEvent = Type.Object(
  {
    event: Type.Literal('audit'),
    type: AuditType,
    /** When it happened (ISO 8601, UTC). */
    at: Type.String({ format: 'date-time' }),
    /** success: the action took effect; failure: it was refused or changed nothing. */
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
    /** The X-Request-Id of the request (packages/observability). */
    request_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }),
    /** The client address (the forwarded one only from a trusted proxy). */
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    sub: Type.Optional(id),
    sid: Type.Optional(id),
    client_id: Type.Optional(id),
    /** Admin: the signing key acted on. */
    kid: Type.Optional(id),
    /** Admin: method and route, e.g. `POST /admin/keys/rotate`. */
    action: Type.Optional(Type.String({ maxLength: 220 })),
    /** Admin: the HTTP status answered. */
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    /** sign_out_everywhere: how many sessions ended. */
    count: Type.Optional(Type.Integer({ minimum: 0 })),
    /** For failures (and reuse): a stable code, e.g. invalid_grant, spent_token_presented, wrong_token. */
    cause: Type.Optional(code),
  },
  { additionalProperties: false },
)
export type AuditEvent = Type.Static<typeof AuditEvent>
