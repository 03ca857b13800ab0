import type { FastifyInstance } from 'fastify'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import rateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import { InvalidRequest, OAuthError } from '../errors.ts'
import type { GrantContext } from '../grants/grant.ts'
import { parseForm } from '../grants/parse-form.ts'
import { repeatedMember } from '../grants/parse-json.ts'
import { safeName } from '../grants/read-params.ts'
import { revokeRoutes } from './revoke.routes.ts'
import { tokenRoutes } from './token.routes.ts'

/**
 * The OAuth endpoints in one encapsulated scope: strict form bodies, cookies,
 * `Cache-Control: no-store` on every answer (RFC 6749 §5.1, R28), and a
 * per-client-IP rate limit kept in Redis so it holds across instances.
 * `request.ip` honours X-Forwarded-For only from TRUST_PROXY (R58).
 */
export async function oauthRoutes(app: FastifyInstance, opts: { context: GrantContext; redis: Redis | null }): Promise<void> {
  const { config } = opts.context
  await app.register(formbody, { parser: parseForm })
  // JSON bodies: Fastify's parser (secure-json-parse refuses __proto__ and constructor.prototype), plus the
  // form parser's rule that a repeated parameter is invalid_request, which JSON.parse alone would hide (R56).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error, value) => {
      if (error) return done(error)
      const repeated = repeatedMember(body as string)
      if (repeated !== undefined) return done(new InvalidRequest(`parameter ${safeName(repeated)} is repeated`))
      done(null, value)
    })
  })
  await app.register(cookie)
  await app.register(rateLimit, {
    global: false,
    hook: 'onRequest',
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW * 1000,
    ...(opts.redis ? { redis: opts.redis, nameSpace: `${config.REDIS_PREFIX}rate-limit:` } : {}),
    // Redis down: let the request through to the endpoint, which answers 503 itself.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => {
      const seconds = String(Math.max(1, Math.ceil(context.ttl / 1000)))
      return new OAuthError('too_many_requests', `too many requests; retry in ${seconds} s`, { statusCode: 429, headers: { 'retry-after': seconds } })
    },
  })
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  })
  await app.register(tokenRoutes, opts)
  await app.register(revokeRoutes, opts)
}
