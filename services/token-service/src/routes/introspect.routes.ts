import type { FastifyInstance, FastifyRequest } from 'fastify'
import { IntrospectionResponse } from '@todo-auth/contracts'
import { TokenVerifierError, TokenVerifierErrorCode } from '@todo-auth/token-verifier'
import { authenticateIntrospectionClient, type IntrospectionClient } from '../config/introspection-clients.ts'
import { InvalidClient, InvalidRequest, TemporarilyUnavailable } from '../errors.ts'
import type { GrantContext } from '../grants/grant.ts'
import { readParams } from '../grants/read-params.ts'
import type { KeyManager } from '../keys/key-manager.ts'
import { createOwnTokenVerifier } from '../tokens/own-token-verifier.ts'

const inactive: IntrospectionResponse = { active: false }
const seconds = (ms: number) => Math.floor(ms / 1000)

/** RFC 6749 §2.3.1: client_secret_basic, id and secret form-urlencoded inside the Basic credentials. */
function basicCredentials(request: FastifyRequest): { clientId: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(request.headers.authorization ?? '')
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

function authenticate(clients: readonly IntrospectionClient[], request: FastifyRequest): IntrospectionClient {
  const credentials = basicCredentials(request)
  const client = credentials && authenticateIntrospectionClient(clients, credentials.clientId, credentials.secret)
  if (!client) throw new InvalidClient('client authentication failed')
  return client
}

/**
 * `POST /oauth/introspect` (RFC 7662): for the confidential resource servers
 * of INTROSPECTION_CLIENTS only. The caller is authenticated before the
 * token is even read, so an unauthenticated caller learns nothing about any
 * token (401 invalid_client). An access token is active while its signature,
 * claims and expiry verify against our own keys AND its session is still
 * live (so a revoked session's access tokens stop being active at once); a
 * refresh token while it is the current token of a live session. Looking is
 * read-only: nothing is rotated or counted as use. Everything else:
 * `{ "active": false }`, whatever the reason.
 */
export async function introspectRoutes(app: FastifyInstance, opts: { context: GrantContext; keys: KeyManager }): Promise<void> {
  const { config, sessions } = opts.context
  const verifier = createOwnTokenVerifier(config, opts.keys, opts.context.clock)
  const idleMs = config.REFRESH_IDLE_TTL * 1000

  async function accessToken(token: string): Promise<IntrospectionResponse> {
    let verified: Awaited<ReturnType<typeof verifier.verify>>
    try {
      verified = await verifier.verify(token)
    } catch (error) {
      if (error instanceof TokenVerifierError && error.code === TokenVerifierErrorCode.jwksUnavailable) {
        throw new TemporarilyUnavailable('signing keys are not loaded yet', { cause: error })
      }
      return inactive
    }
    if (!(await sessions.liveSession(verified.sid))) return inactive
    const { claims } = verified
    return { active: true, token_type: 'Bearer', scope: claims.scope, client_id: claims.client_id, sub: claims.sub, aud: claims.aud, iss: claims.iss, exp: claims.exp, iat: claims.iat, jti: claims.jti, sid: claims.sid }
  }

  async function refreshToken(token: string): Promise<IntrospectionResponse> {
    const session = await sessions.inspectRefreshToken(token)
    if (!session) return inactive
    return {
      active: true,
      scope: session.scope.join(' '),
      client_id: session.clientId,
      sub: session.sub,
      aud: session.audience,
      iss: config.ISSUER,
      exp: seconds(Math.min(session.expiresAt, session.lastUsedAt + idleMs)),
      iat: seconds(session.lastUsedAt),
      sid: session.sid,
    }
  }

  app.post('/oauth/introspect', { config: { rateLimit: {} }, schema: { response: { 200: IntrospectionResponse } } }, async (request) => {
    const caller = authenticate(config.introspectionClients, request)
    const token = readParams(request).get('token')
    if (token === undefined || token === '') throw new InvalidRequest('token is required')
    // token_type_hint is only a hint (RFC 7662 §2.1): the token's own shape decides (a JWS has two dots).
    const answer = token.split('.').length === 3 ? await accessToken(token) : await refreshToken(token)
    request.log.info({ event: 'token_introspected', client_id: caller.clientId, active: answer.active }, 'token introspected')
    return answer
  })
}
