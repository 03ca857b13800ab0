import type { FastifyInstance } from 'fastify'
import { GrantType, TokenResponse } from '@todo-auth/contracts'
import { UnsupportedGrantType } from '../errors.ts'
import { checkCookieOrigin, findClient } from '../grants/client.ts'
import type { Grant, GrantContext, GrantOutcome } from '../grants/grant.ts'
import type { ClientConfig } from '../config/clients.ts'
import { failedGrantAudit, grantAuditType } from '../audit/oauth-audit.ts'
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
    // Every answer but a 429 is one audit event: a sign-in or refresh, its outcome and cause.
    let auditType = grantAuditType(undefined)
    let client: ClientConfig | undefined
    let outcome: GrantOutcome
    // Taken before the grant so Max-Age never exceeds what is left of the session (R47).
    const startedAt = context.clock.now()
    try {
      const params = readParams(request)
      const grantType = required(params, 'grant_type')
      auditType = grantAuditType(grantType)
      client = findClient(context.config.clients, params)
      const grant = grants.get(grantType)
      if (!grant) throw new UnsupportedGrantType()
      checkCookieOrigin(client, request)
      outcome = await grant(context, client, params, request)
    } catch (error) {
      context.audit(request, failedGrantAudit(auditType, error, client?.clientId))
      throw error
    }
    context.audit(request, { type: auditType, outcome: 'success', sub: outcome.session.sub, sid: outcome.session.sid, client_id: client.clientId })
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
