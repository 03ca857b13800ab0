import type { FastifyError, FastifyInstance } from 'fastify'
import { JsonBodyError } from '@todo-auth/service-config'
import { BearerAuthError } from '@todo-auth/token-verifier'
import { isDatabaseUnavailable } from '../db/database.ts'
import { TodoApiError, problem, type TodoApiErrorCode } from '../errors.ts'

const fastifyCodes: Record<string, TodoApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_BAD_REQUEST',
}

const problemType = 'application/problem+json; charset=utf-8'

/**
 * The one place errors become HTTP (RFC 9457 problem+json with a stable `code`). Coded errors keep
 * their status; validation errors are 400; anything unknown is a 500 logged with the request id and
 * never explained to the client.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof BearerAuthError) {
      return reply.code(error.statusCode).headers(error.headers).type(problemType).send(problem(error.code))
    }
    if (error instanceof JsonBodyError) return reply.code(400).type(problemType).send(problem(error.code, error.message))
    if (error instanceof TodoApiError) {
      return reply.code(error.statusCode).type(problemType).send(problem(error.code, error.message))
    }
    if (error.validation) {
      // Fastify's message names the part and the rule ("body/title must NOT have more than 500 characters"), never the value.
      return reply.code(400).type(problemType).send(problem('ERR_VALIDATION', error.message))
    }
    const mapped = fastifyCodes[error.code]
    if (mapped !== undefined) return reply.code(problem(mapped).status).type(problemType).send(problem(mapped))
    if (error instanceof SyntaxError && error.statusCode === 400) {
      // Malformed JSON, or __proto__/constructor.prototype keys refused by Fastify's parser (R56).
      return reply.code(400).type(problemType).send(problem('ERR_MALFORMED_JSON'))
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error, event: 'database_unavailable' }, 'database unavailable')
      return reply.code(503).header('retry-after', '5').type(problemType).send(problem('ERR_DATABASE_UNAVAILABLE'))
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      request.log.info({ err: error }, 'bad request')
      return reply.code(400).type(problemType).send(problem('ERR_BAD_REQUEST'))
    }
    request.log.error({ err: error }, 'unexpected error')
    return reply.code(500).type(problemType).send(problem('ERR_INTERNAL'))
  })

  app.setNotFoundHandler((_request, reply) => reply.code(404).type(problemType).send(problem('ERR_ROUTE_NOT_FOUND')))
}
