import Type from 'typebox'

/**
 * A public signing key as published (RFC 7517). `additionalProperties: false`
 * makes a private member (`d`, `p`, `q`, …) a contract violation.
 */
export const PublicJwk = Type.Object(
  {
    kty: Type.Union([Type.Literal('EC'), Type.Literal('OKP'), Type.Literal('RSA')]),
    kid: Type.String({ minLength: 1 }),
    alg: Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA'), Type.Literal('RS256')]),
    use: Type.Literal('sig'),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type PublicJwk = Type.Static<typeof PublicJwk>

export const Jwks = Type.Object({ keys: Type.Array(PublicJwk) }, { additionalProperties: false })
export type Jwks = Type.Static<typeof Jwks>
