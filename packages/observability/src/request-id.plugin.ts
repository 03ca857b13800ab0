import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { requestIdHeader, runWithRequestId } from './request-id.ts'

/**
 * Returns the request id (see requestIdServerOptions) on every answer, errors and 404s included,
 * and makes it the current id for the rest of the request, so withRequestId() fetches carry it.
 */
export const requestIdPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (request, _reply, done) => {
      runWithRequestId(request.id, done)
    })
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header(requestIdHeader, request.id)
      done(null, payload)
    })
  },
  { name: 'request-id', fastify: '5.x' },
)
