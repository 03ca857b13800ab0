import Type from 'typebox'

/** RFC 8693 / RFC 6749 grant types accepted by `POST /oauth/token`. */
export const GrantType = {
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  refreshToken: 'refresh_token',
} as const
export type GrantType = (typeof GrantType)[keyof typeof GrantType]

/** RFC 8693 §3 token type identifiers. */
export const TokenTypeUri = {
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
} as const

/**
 * The error codes of the token and revocation endpoints (RFC 6749 §5.2,
 * RFC 8707 `invalid_target`, RFC 7009 `unsupported_token_type`) with the
 * HTTP status each one is sent with. `too_many_requests` is ours (429).
 */
export const OAuthErrorStatus = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  too_many_requests: 429,
  temporarily_unavailable: 503,
  server_error: 500,
} as const
export type OAuthErrorCode = keyof typeof OAuthErrorStatus

export const OAuthErrorBody = Type.Object(
  {
    error: Type.Unsafe<OAuthErrorCode>(Type.String({ enum: Object.keys(OAuthErrorStatus) })),
    error_description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type OAuthErrorBody = Type.Static<typeof OAuthErrorBody>

/** RFC 6749 §5.1 / RFC 8693 §2.2.1 successful token response. */
export const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    /** Present on the token-exchange grant (RFC 8693 requires it). */
    issued_token_type: Type.Optional(Type.Literal(TokenTypeUri.accessToken)),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ minimum: 1 }),
    scope: Type.String(),
    /** Only for body-delivery clients; cookie clients get it as a cookie. */
    refresh_token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type TokenResponse = Type.Static<typeof TokenResponse>
