import type { FastifyInstance } from 'fastify'
import { checkJsonBody } from '@todo-auth/service-config'
import type { RedisClient } from '../redis/redis-client.ts'
import { InvalidRequest } from '../errors.ts'
import type { GrantContext } from '../grants/grant.ts'
import type { KeyManager } from '../keys/key-manager.ts'
import { repeatedMember } from '../grants/parse-json.ts'
import { safeName } from '../grants/read-params.ts'
import { cookiePlugin } from '../plugins/cookie.plugin.ts'
import { formBodyPlugin } from '../plugins/form-body.plugin.ts'
import { oauthRateLimitPlugin } from '../plugins/oauth-rate-limit.plugin.ts'
import { introspectRoutes } from './introspect.routes.ts'
import { revokeRoutes } from './revoke.routes.ts'
import { tokenRoutes } from './token.routes.ts'

/**
 * The OAuth endpoints in one encapsulated scope: strict form bodies, cookies,
 * `Cache-Control: no-store` on every answer (RFC 6749 §5.1, R28), and a
 * per-client-IP rate limit kept in Redis so it holds across instances.
 * `request.ip` honours X-Forwarded-For only from TRUST_PROXY (R58).
 */
export async function oauthRoutes(app: FastifyInstance, opts: { context: GrantContext; redis: RedisClient | null; keys: KeyManager }): Promise<void> {
  const { config } = opts.context
  await app.register(formBodyPlugin)
  // JSON bodies: Fastify's parser (secure-json-parse refuses __proto__ and constructor.prototype), plus the
  // form parser's rule that a repeated parameter is invalid_request, which JSON.parse alone would hide (R56),
  // after the shared depth and NUL check (invalid_request too).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const refused = checkJsonBody(body as string)
    if (refused) return done(new InvalidRequest(refused.message))
    parseJson(request, body as string, (error, value) => {
      if (error) return done(error)
      const repeated = repeatedMember(body as string)
      if (repeated !== undefined) return done(new InvalidRequest(`parameter ${safeName(repeated)} is repeated`))
      done(null, value)
    })
  })
  await app.register(cookiePlugin)
  await app.register(oauthRateLimitPlugin, { config, redis: opts.redis })
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    done()
  })
  await app.register(tokenRoutes, opts)
  await app.register(revokeRoutes, opts)
  await app.register(introspectRoutes, opts)
}
