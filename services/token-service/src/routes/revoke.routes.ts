import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../errors.ts'
import { checkCookieOrigin, findClient } from '../grants/client.ts'
import type { GrantContext } from '../grants/grant.ts'
import { readParams } from '../grants/read-params.ts'
import { clearRefreshCookie, readRefreshCookie } from '../grants/refresh-cookie.ts'

/**
 * `POST /oauth/revoke` (RFC 7009, SPEC §6): ends the session of a refresh
 * token (a current or a spent one of the family). 200 whether or not the
 * token was known (RFC 7009 §2.2), so it reveals nothing; a token of another
 * client is left alone. Cookie clients send the cookie and get it cleared.
 * An access token is not revocable here (it is self-contained and short-lived); it gets 200 too.
 */
export async function revokeRoutes(app: FastifyInstance, opts: { context: GrantContext }): Promise<void> {
  const { context } = opts
  app.post('/oauth/revoke', { config: { rateLimit: {} } }, async (request, reply) => {
    const params = readParams(request)
    const client = findClient(context.config.clients, params)
    checkCookieOrigin(client, request)
    let token = params.get('token')
    if (client.refreshTokenDelivery === 'cookie') {
      token ??= readRefreshCookie(request, context.config)
      clearRefreshCookie(reply, context.config)
    } else if (token === undefined) {
      throw new InvalidRequest('token is required')
    }
    if (token !== undefined) {
      const outcome = await context.sessions.revokeByToken({ token, clientId: client.clientId })
      // 200 whatever happened (RFC 7009 §2.2); the audit event tells a revocation from one that changed nothing.
      context.audit(request, { type: 'token_revoke', client_id: client.clientId, ...(outcome === 'revoked' ? { outcome: 'success' } : { outcome: 'failure', cause: outcome === 'wrong_client' ? 'wrong_client' : 'unknown_token' }) })
    }
    reply.code(200).send()
  })
}
