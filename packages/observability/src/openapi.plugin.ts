import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface OpenApiPluginOptions {
  info: { title: string; version: string; description?: string }
  /** E.g. securitySchemes. */
  components?: { securitySchemes?: Record<string, { type: 'http'; scheme: string; bearerFormat?: string; description?: string }> }
}

/**
 * The one way a service publishes its OpenAPI 3.1 document: @fastify/swagger builds it from the
 * schemas of the routes registered after this plugin, and GET /openapi.json serves it.
 */
export const openApiPlugin = fp(
  async (app: FastifyInstance, opts: OpenApiPluginOptions) => {
    await app.register(swagger, { openapi: { openapi: '3.1.0', info: opts.info, ...(opts.components ? { components: opts.components } : {}) } })
    app.get('/openapi.json', { schema: { summary: 'This OpenAPI document', tags: ['operations'], response: { 200: { type: 'object', additionalProperties: true } } } }, async () => app.swagger() as unknown as Record<string, unknown>)
  },
  { name: 'openapi', fastify: '5.x' },
)
