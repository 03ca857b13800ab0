import type { FastifyInstance } from 'fastify'
import { AuthorizationServerMetadata } from '@todo-auth/contracts'
import type { Config } from '../config.ts'

export const tokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** RFC 8414 §2 metadata of this issuer (SPEC §7). Derived from config only, so computed once. */
export function authorizationServerMetadata(config: Config): AuthorizationServerMetadata {
  const base = config.ISSUER.replace(/\/+$/, '')
  const scopes = [...new Set(config.clients.flatMap((client) => client.scopes))].sort()
  return {
    issuer: config.ISSUER,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth/revoke`,
    grant_types_supported: [tokenExchangeGrant, 'refresh_token'],
    // Every registered client is public (SPEC §4): no client authentication at either endpoint.
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    // RFC 7662: resource servers authenticate with HTTP Basic (INTROSPECTION_CLIENTS).
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    scopes_supported: scopes,
    // No authorization endpoint, so no response_types_supported: tokens come only from the exchange
    // and refresh grants, and RFC 8414 §2 says a claim with zero elements is omitted, not sent empty.
  }
}

export async function metadataRoutes(app: FastifyInstance, opts: { config: Config }): Promise<void> {
  const metadata = authorizationServerMetadata(opts.config)
  app.get('/.well-known/oauth-authorization-server', { schema: { response: { 200: AuthorizationServerMetadata } } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=3600').type('application/json; charset=utf-8')
    return metadata
  })
}
