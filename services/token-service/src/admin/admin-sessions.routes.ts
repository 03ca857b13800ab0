import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { SessionService } from '../sessions/session.service.ts'

/**
 * `DELETE /admin/users/{sub}/sessions` (SPEC §9): ends every session of one
 * user, e.g. after BetterAuth deleted or banned them. Registered on the
 * admin listener after its bearer-token check, rate limit and audit log.
 * Idempotent: 204 also when the user had no session.
 */
export async function adminSessionsRoutes(app: FastifyInstance, opts: { sessions: SessionService }): Promise<void> {
  app.delete('/admin/users/:sub/sessions', { schema: { params: Type.Object({ sub: Type.String({ minLength: 1, maxLength: 255 }) }) } }, async (request, reply) => {
    const { sub } = request.params as { sub: string }
    const ended = await opts.sessions.revokeAll(sub)
    request.log.info({ event: 'sessions_revoked', via: 'admin', sub, count: ended }, 'all sessions of a user revoked by an operator')
    reply.code(204).send()
  })
}
