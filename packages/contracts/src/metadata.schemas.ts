import Type from 'typebox'

/**
 * RFC 8414 §2 authorization server metadata, the members SPEC §7 names and a few it implies.
 * A claim with no values is omitted, never sent as an empty array (RFC 8414 §2: "claims with
 * zero elements MUST be omitted"), so every array here has at least one element.
 */
export const AuthorizationServerMetadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  jwks_uri: Type.String(),
  revocation_endpoint: Type.String(),
  grant_types_supported: Type.Array(Type.String(), { minItems: 1 }),
  token_endpoint_auth_methods_supported: Type.Array(Type.String(), { minItems: 1 }),
  revocation_endpoint_auth_methods_supported: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  /** RFC 7662 (via RFC 8414 §2): for confidential resource servers only. */
  introspection_endpoint: Type.Optional(Type.String()),
  introspection_endpoint_auth_methods_supported: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  scopes_supported: Type.Array(Type.String(), { minItems: 1 }),
  response_types_supported: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
})
export type AuthorizationServerMetadata = Type.Static<typeof AuthorizationServerMetadata>
