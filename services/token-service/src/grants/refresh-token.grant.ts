import type { FastifyRequest } from 'fastify'
import type { ClientConfig } from '../config/clients.ts'
import type { Config } from '../config.ts'
import { InvalidRequest } from '../errors.ts'
import type { Grant } from './grant.ts'
import { required, type OAuthParams } from './read-params.ts'
import { readRefreshCookie } from './refresh-cookie.ts'
import { selectAudience } from './select-audience.ts'
import { selectScope } from './select-scope.ts'

/**
 * The refresh token a client presents: a cookie client's only in its
 * HttpOnly cookie (SPEC §4; R52), a body client's in `refresh_token`.
 */
function presentedToken(config: Config, client: ClientConfig, params: OAuthParams, request: FastifyRequest): string {
  if (client.refreshTokenDelivery === 'body') return required(params, 'refresh_token')
  if (params.has('refresh_token')) throw new InvalidRequest('this client sends its refresh token only in the cookie')
  const token = readRefreshCookie(request, config)
  if (token === undefined) throw new InvalidRequest('the refresh token cookie is missing')
  return token
}

/**
 * RFC 6749 §6 refresh (SPEC §3.2): spends the token, returns a successor in
 * the same session. `scope` may only narrow the session's; `audience` or
 * `resource`, if sent, must be the session's. Both are checked atomically
 * with the rotation, before anything is spent.
 */
export const refreshTokens: Grant = async (context, client, params, request) => {
  const refreshToken = presentedToken(context.config, client, params, request)
  const requestedScope = params.has('scope') ? selectScope(params.get('scope'), client.scopes) : undefined
  const audience = params.has('audience') || params.has('resource') ? selectAudience(params, client.audiences, '') : undefined
  context.accessTokens.assertReady()

  const { session, refreshToken: successor } = await context.sessions.refresh({
    refreshToken,
    clientId: client.clientId,
    ...(requestedScope ? { scope: requestedScope } : {}),
    ...(audience !== undefined ? { audience } : {}),
  })
  const scope = requestedScope ?? session.scope
  const accessToken = await context.accessTokens.issue({ ...session, scope })
  return { accessToken: accessToken.token, expiresIn: accessToken.expiresIn, scope, refreshToken: successor, session }
}
