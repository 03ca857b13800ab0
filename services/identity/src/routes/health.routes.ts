import type { FastifyInstance } from 'fastify'
import type { IdentityDatabase } from '../database.ts'

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ok', 'unavailable'] } },
  required: ['status'],
  additionalProperties: false,
} as const

/** /healthz: the process answers. /readyz: the database answers too. */
export async function healthRoutes(app: FastifyInstance, { database }: { database: IdentityDatabase }) {
  app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', { schema: { response: { 200: statusSchema, 503: statusSchema } } }, async (request, reply) => {
    try {
      await database.ping()
      return { status: 'ok' as const }
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable')
      return reply.status(503).send({ status: 'unavailable' as const })
    }
  })
}
