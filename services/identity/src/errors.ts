import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { checkJsonBody, JsonBodyError, type JsonBodyErrorCode } from '@todo-auth/service-config'

/** Coded start-up failures: server.ts prints `message` as one line and exits non-zero. */
export class IdentityStartupError extends Error {
  readonly code: 'IDENTITY_DB_UNREACHABLE' | 'IDENTITY_SIGNING_KEY_UNUSABLE'
  constructor(code: IdentityStartupError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'IdentityStartupError'
    this.code = code
  }
}

/** Stable codes of the errors this service answers itself (BetterAuth answers with its own codes). */
export const HttpErrorCode = {
  INVALID_JSON: 'INVALID_JSON',
  JSON_TOO_DEEP: 'JSON_TOO_DEEP',
  INVALID_CHARACTERS: 'INVALID_CHARACTERS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode]

export interface ErrorBody {
  code: HttpErrorCode
  message: string
}

const fastifyCodes: Record<string, { code: HttpErrorCode; status: number; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', status: 400, message: 'The body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', status: 400, message: 'The JSON body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'The body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, message: 'Send application/json' },
}

/** The shared JSON-body refusals (@todo-auth/service-config) in this service's code style. */
const jsonBodyCodes: Record<JsonBodyErrorCode, HttpErrorCode> = { ERR_JSON_TOO_DEEP: 'JSON_TOO_DEEP', ERR_INVALID_CHARACTERS: 'INVALID_CHARACTERS' }

/**
 * Fastify's JSON parser (secure-json-parse) behind the shared depth and NUL
 * check: BetterAuth re-serializes the body (JSON.stringify, which overflows
 * on deep nesting) and PostgreSQL refuses NUL in text.
 */
export function guardJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const refused = checkJsonBody(body as string)
    if (refused) return done(refused)
    parseJson(request, body as string, done)
  })
}

export const internalError: ErrorBody = { code: 'INTERNAL_SERVER_ERROR', message: 'Internal Server Error' }

/**
 * The one place errors become HTTP: known client errors keep their status with a
 * stable code; anything else is a 500 logged with the request id and never explained.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof JsonBodyError) return reply.status(400).send({ code: jsonBodyCodes[error.code], message: error.message } satisfies ErrorBody)
  const known = fastifyCodes[error.code]
  if (known) return reply.status(known.status).send({ code: known.code, message: known.message } satisfies ErrorBody)
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return reply.status(status).send({ code: 'BAD_REQUEST', message: 'Bad request' } satisfies ErrorBody)
  }
  request.log.error({ err: error }, 'request failed')
  return reply.status(500).send(internalError)
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send({ code: 'NOT_FOUND', message: 'Not Found' } satisfies ErrorBody)
}
