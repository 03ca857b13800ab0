import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { BearerAuthError } from '@todo-auth/token-verifier'
import { ApiError, OAuthError, StoreUnavailableError } from './errors.ts'

/**
 * The one place errors become HTTP responses (STYLE §8). OAuth errors get
 * their RFC 6749 body; coded API errors their code; validation and body
 * errors 4xx; anything unknown a generic 500 that is logged with the request
 * id and never explained to the client.
 */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof OAuthError) {
    if (error.statusCode >= 500 || error.cause) request.log.warn({ err: error.cause ?? error, oauthError: error.error }, 'oauth error')
    for (const [name, value] of Object.entries(error.headers)) reply.header(name, value)
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    if (error.error === 'invalid_client') reply.header('www-authenticate', 'Basic realm="token-service"')
    reply.code(error.statusCode).send(error.toBody())
    return
  }
  if (error instanceof StoreUnavailableError) {
    request.log.error({ err: error.cause }, 'state store unavailable')
    reply.code(503).header('retry-after', '5').header('cache-control', 'no-store')
    reply.send(isOAuthPath(request) ? { error: 'temporarily_unavailable', error_description: 'try again shortly' } : { code: 'STORE_UNAVAILABLE', message: 'try again shortly' })
    return
  }
  if (error instanceof BearerAuthError) {
    // RFC 6750 §3: the challenge carries the error; the body its stable code.
    reply.code(error.statusCode).headers(error.headers).header('cache-control', 'no-store')
    reply.send({ code: error.code, message: error.message })
    return
  }
  if (error instanceof ApiError) {
    reply.code(error.statusCode).send({ code: error.code, message: error.message })
    return
  }
  const fastifyError = error as FastifyError
  const status = fastifyError.statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    // Validation, body-parsing, size and content-type failures (RFC 6749 §5.2: invalid_request).
    if (isOAuthPath(request)) {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      reply.code(status === 413 || status === 415 ? status : 400).send({ error: 'invalid_request', error_description: publicMessage(fastifyError) })
      return
    }
    reply.code(status).send({ code: fastifyError.code ?? 'BAD_REQUEST', message: publicMessage(fastifyError) })
    return
  }
  request.log.error({ err: error }, 'unhandled error')
  reply.code(500)
  reply.send(isOAuthPath(request) ? { error: 'server_error', error_description: 'internal error' } : { code: 'INTERNAL', message: 'internal error' })
}

/**
 * An unknown path or method: a fixed 404. Fastify's default one echoes the
 * whole URL, query string included, in its body and an info log line, so a
 * token sent in a URL would land in both (R19).
 */
export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply): void {
  reply.code(404).header('cache-control', 'no-store').send({ code: 'NOT_FOUND', message: 'no such route' })
}

function isOAuthPath(request: FastifyRequest): boolean {
  return request.url.startsWith('/oauth/')
}

function publicMessage(error: FastifyError): string {
  if (error.validation) return 'malformed request'
  if (error.statusCode === 413) return 'request body too large'
  if (error.statusCode === 415) return 'unsupported content type'
  return 'malformed request'
}
