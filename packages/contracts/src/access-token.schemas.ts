import Type from 'typebox'

/** Scopes understood by todo-api. */
export const TodoScope = {
  read: 'todos:read',
  write: 'todos:write',
} as const
export type TodoScope = (typeof TodoScope)[keyof typeof TodoScope]

/** RFC 9068 §2.1: the JOSE header of our access tokens. */
export const AccessTokenHeader = Type.Object({
  alg: Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA'), Type.Literal('RS256')]),
  kid: Type.String({ minLength: 1 }),
  typ: Type.Literal('at+jwt'),
})
export type AccessTokenHeader = Type.Static<typeof AccessTokenHeader>

/** RFC 9068 §2.2 plus our claims (SPEC §5). Every member is always present. */
export const AccessTokenClaims = Type.Object({
  iss: Type.String({ minLength: 1 }),
  sub: Type.String({ minLength: 1 }),
  aud: Type.String({ minLength: 1 }),
  exp: Type.Integer(),
  iat: Type.Integer(),
  jti: Type.String({ minLength: 1 }),
  client_id: Type.String({ minLength: 1 }),
  /** Space-separated (RFC 8693 §4.2). */
  scope: Type.String(),
  /** The session (refresh-token family) this token was issued under. */
  sid: Type.String({ minLength: 1 }),
  email: Type.String(),
  roles: Type.Array(Type.String()),
})
export type AccessTokenClaims = Type.Static<typeof AccessTokenClaims>
