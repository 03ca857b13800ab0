import type { FastifyInstance, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { SessionList, type SessionView } from '@todo-auth/contracts'
import { bearerAuthPlugin } from '@todo-auth/token-verifier'
import type { RequestAudit } from '../audit/audit-log.ts'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import { ApiError } from '../errors.ts'
import type { KeyManager } from '../keys/key-manager.ts'
import type { SessionService } from '../sessions/session.service.ts'
import type { Session } from '../sessions/session.store.ts'
import { isSessionId } from '../tokens/refresh-token.codec.ts'
import { createOwnTokenVerifier } from '../tokens/own-token-verifier.ts'
import { pageOf, SessionListQuery, sessionPageSize } from './session-paging.ts'

const iso = (ms: number) => new Date(ms).toISOString()

function view(session: Session, currentSid: string): SessionView {
  return {
    id: session.sid,
    client_id: session.clientId,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    expires_at: iso(session.expiresAt),
    user_agent: session.userAgent,
    current: session.sid === currentSid,
  }
}

/**
 * The caller's sessions (SPEC §6), authenticated by an access token of this
 * issuer for any of our audiences, verified locally against our own
 * published keys. A refresh token is never a bearer credential here (it is
 * no JWS, R45). Sessions of other users are indistinguishable from absent ones (404).
 */
export async function sessionsRoutes(app: FastifyInstance, opts: { config: Config; clock: Clock; keys: KeyManager; sessions: SessionService; audit: RequestAudit }): Promise<void> {
  const { config, sessions } = opts
  const verifier = createOwnTokenVerifier(config, opts.keys, opts.clock)
  await app.register(bearerAuthPlugin, { verifier, realm: 'token-service' })
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })

  const caller = (request: FastifyRequest) => request.auth!

  app.get('/sessions', { config: { scopes: [] }, schema: { querystring: SessionListQuery, response: { 200: SessionList } } }, async (request, reply) => {
    const auth = caller(request)
    const { limit = sessionPageSize.default, after } = request.query as { limit?: number; after?: string }
    const { page, next } = pageOf(await sessions.list(auth.sub), limit, after)
    if (next) reply.header('link', `</sessions?${new URLSearchParams({ limit: String(limit), after: next })}>; rel="next"`)
    return page.map((session) => view(session, auth.sid))
  })

  app.delete('/sessions/:id', { config: { scopes: [] }, schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const ended = isSessionId(id) && (await sessions.revoke(caller(request).sub, id))
    const { sub } = caller(request)
    if (!ended) {
      opts.audit(request, { type: 'session_revoke', outcome: 'failure', cause: 'session_not_found', sub })
      throw new ApiError(404, 'SESSION_NOT_FOUND', 'no such session')
    }
    opts.audit(request, { type: 'session_revoke', outcome: 'success', sub, sid: id })
    reply.code(204).send()
  })

  app.delete('/sessions', { config: { scopes: [] } }, async (request, reply) => {
    const { sub, sid } = caller(request)
    const ended = await sessions.revokeAll(sub)
    opts.audit(request, { type: 'sign_out_everywhere', outcome: 'success', sub, ...(sid ? { sid } : {}), count: ended })
    reply.code(204).send()
  })
}
