export * from './errors.ts'
export * from './jwks/remote-key-set.ts'
export * from './jwt/verify-access-token.ts'
export * from './fastify/bearer-auth.plugin.ts'
