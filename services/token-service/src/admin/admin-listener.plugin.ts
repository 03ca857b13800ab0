import type { FastifyInstance } from 'fastify'
import type { RedisClient } from '../redis/redis-client.ts'
import { createAdminAuthenticator } from './admin-auth.ts'
import type { RequestAudit } from '../audit/audit-log.ts'
import { auditReason, setAuditReason } from './audit.ts'
import type { Metrics } from './metrics.ts'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import { ApiError } from '../errors.ts'
import type { KeyLifecycle } from '../keys/key-manager.ts'
import { adminRoutes } from './admin.routes.ts'
import { adminRateLimitPlugin } from '../plugins/admin-rate-limit.plugin.ts'

export interface AdminListenerOptions {
  config: Config
  clock: Clock
  adminToken: string
  redis: RedisClient | null
  keys: KeyLifecycle
  metrics: Metrics
  audit: RequestAudit
}

/** Probes stay open (and unaudited): orchestrators call them every few seconds without a token. */
const openPaths = new Set(['/healthz', '/readyz'])

/**
 * The admin listener (SPEC §9): every path but the probes needs the admin
 * bearer token, every request counts against a per-address rate limit (in
 * Redis when there is one, so the limit holds across the fleet), and every
 * call, refused or not, becomes an audit event. Register other admin routes
 * after this, on the same instance, so they get the same treatment.
 */
export async function registerAdminListener(app: FastifyInstance, opts: AdminListenerOptions): Promise<void> {
  const { config, metrics, audit } = opts
  const authenticate = createAdminAuthenticator(opts.adminToken)
  const authFailures = metrics.counter('token_service_admin_auth_failures_total', 'Admin API requests refused for missing or wrong credentials.', ['reason'])
  const adminRequests = metrics.counter('token_service_admin_requests_total', 'Admin API requests by outcome.', ['outcome'])

  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff')
  })

  // Rate limit first (onRequest, on every route registered from here on), so failed attempts are counted (R35).
  await app.register(adminRateLimitPlugin, { config, redis: opts.redis })

  // Authentication after the rate limit: preParsing runs after every onRequest hook, and before any body is read.
  app.addHook('preParsing', async (request, reply) => {
    if (openPaths.has(request.routeOptions.url ?? '')) return
    const result = authenticate(request.headers.authorization)
    if (!result.ok) {
      authFailures.inc({ reason: result.reason })
      setAuditReason(request, result.reason)
      reply.header('www-authenticate', 'Bearer realm="token-service-admin"')
      throw new ApiError(401, 'UNAUTHORIZED', 'admin credentials required')
    }
  })

  app.addHook('onResponse', async (request, reply) => {
    if (openPaths.has(request.routeOptions.url ?? '')) return
    const params = (request.params ?? {}) as { kid?: unknown; sub?: unknown }
    const status = reply.statusCode
    const outcome = status < 400 ? 'success' : 'failure'
    let reason = auditReason(request)
    if (!reason && status === 429) reason = 'rate_limited'
    if (!reason && status >= 400) reason = status === 404 ? 'not_found' : status >= 500 ? 'error' : 'bad_request'
    adminRequests.inc({ outcome })
    audit(request, {
      type: 'admin',
      action: `${request.method} ${request.routeOptions.url ?? '(unknown)'}`,
      ...(typeof params.kid === 'string' && params.kid.length > 0 ? { kid: params.kid.slice(0, 200) } : {}),
      ...(typeof params.sub === 'string' && params.sub.length > 0 ? { sub: params.sub.slice(0, 200) } : {}),
      outcome,
      status,
      ...(reason ? { cause: reason } : {}),
    })
  })

  await app.register(adminRoutes, { keys: opts.keys, metrics })

  // Unknown paths are a route too, so they are rate-limited, authenticated (a 404 never tells an
  // unauthenticated caller which paths exist) and audited like the others.
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/*',
    handler: async () => {
      throw new ApiError(404, 'NOT_FOUND', 'no such admin route')
    },
  })
}
