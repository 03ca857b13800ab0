import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { Problem } from '@todo-auth/contracts'
import { TodoApiError } from '../errors.ts'

const Health = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false })
const Ready = Type.Object(
  {
    status: Type.Literal('ready'),
    checks: Type.Object({
      database: Type.Literal('ok'),
      /** Informational: a todo-api without keys yet still starts serving once token-service answers. */
      jwks: Type.Union([Type.Literal('loaded'), Type.Literal('not_loaded')]),
    }),
  },
  { additionalProperties: false },
)

/** GET /healthz (process alive) and GET /readyz (database reachable, SPEC §10). */
export function registerHealthRoutes(app: FastifyInstance, deps: { pingDatabase: () => Promise<void>; jwksLoaded: () => boolean }): void {
  const tags = ['operations']
  app.get('/healthz', { schema: { summary: 'The process is alive', tags, response: { 200: Health } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', { schema: { summary: 'The database answers', tags, response: { 200: Ready, 503: Problem } } }, async (request) => {
    try {
      await deps.pingDatabase()
    } catch (error) {
      request.log.warn({ err: error, event: 'not_ready' }, 'database unreachable')
      throw new TodoApiError('ERR_DATABASE_UNAVAILABLE')
    }
    return { status: 'ready' as const, checks: { database: 'ok' as const, jwks: deps.jwksLoaded() ? ('loaded' as const) : ('not_loaded' as const) } }
  })
}
