import type { FastifyInstance } from 'fastify'
import { GrantType, TokenResponse } from '@todo-auth/contracts'
import { UnsupportedGrantType } from '../errors.ts'
import { checkCookieOrigin, findClient } from '../grants/client.ts'
import type { Grant, GrantContext } from '../grants/grant.ts'
import { readParams, required } from '../grants/read-params.ts'
import { setRefreshCookie } from '../grants/refresh-cookie.ts'
import { refreshTokens } from '../grants/refresh-token.grant.ts'
import { exchangeToken } from '../grants/token-exchange.grant.ts'

const grants: ReadonlyMap<string, Grant> = new Map([
  [GrantType.tokenExchange, exchangeToken],
  [GrantType.refreshToken, refreshTokens],
])

/**
 * `POST /oauth/token` (SPEC §3): read the parameters, identify the client,
 * pick the grant, check the cookie client's origin, run the grant, deliver
 * the refresh token in the body or the cookie.
 */
export async function tokenRoutes(app: FastifyInstance, opts: { context: GrantContext }): Promise<void> {
  const { context } = opts
  app.post('/oauth/token', { config: { rateLimit: {} }, schema: { response: { 200: TokenResponse } } }, async (request, reply) => {
    const params = readParams(request)
    const grantType = required(params, 'grant_type')
    const client = findClient(context.config.clients, params)
    const grant = grants.get(grantType)
    if (!grant) throw new UnsupportedGrantType()
    checkCookieOrigin(client, request)

    // Taken before the grant so Max-Age never exceeds what is left of the session (R47).
    const startedAt = context.clock.now()
    const outcome = await grant(context, client, params, request)
    const body: TokenResponse = {
      access_token: outcome.accessToken,
      ...(outcome.issuedTokenType ? { issued_token_type: outcome.issuedTokenType } : {}),
      token_type: 'Bearer',
      expires_in: outcome.expiresIn,
      scope: outcome.scope.join(' '),
    }
    if (client.refreshTokenDelivery === 'cookie') {
      setRefreshCookie(reply, context.config, outcome.refreshToken, outcome.session.expiresAt - startedAt)
    } else {
      body.refresh_token = outcome.refreshToken
    }
    return body
  })
}
