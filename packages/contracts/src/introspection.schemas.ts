import Type from 'typebox'

/**
 * RFC 7662 §2.2 answer of `POST /oauth/introspect`. An inactive token (unknown,
 * expired, revoked, another issuer's, garbage) is `{ "active": false }` and
 * nothing else; an active one carries its claims. `token_type` is `Bearer`
 * for an access token and absent for a refresh token; `sid` is ours (the session).
 */
export const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.Literal('Bearer')),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    sub: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    jti: Type.Optional(Type.String()),
    sid: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type IntrospectionResponse = Type.Static<typeof IntrospectionResponse>
