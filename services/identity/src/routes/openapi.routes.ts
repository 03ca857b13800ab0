import type { FastifyInstance } from 'fastify'
import type { Auth } from '../auth.ts'

/** GET /openapi.json: BetterAuth's own OpenAPI 3.1 document of /api/auth (its openAPI plugin), as todo-api and token-service serve theirs. */
export async function openApiRoutes(app: FastifyInstance, { auth }: { auth: Auth }) {
  const document = await auth.api.generateOpenAPISchema()
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(document))
}
