import Fastify, { type FastifyInstance } from 'fastify'
import { openApiPlugin, requestIdPlugin, requestIdServerOptions, withRequestId } from '@todo-auth/observability'
import { closeRedisClient, createRedisClient, pingWithin, type RedisClient } from './redis/redis-client.ts'
import type { Config } from './config.ts'
import { systemClock, type Clock } from './clock.ts'
import { errorHandler, notFoundHandler } from './error-handler.ts'
import { loggerOptions } from './logger.ts'
import { healthRoutes } from './routes/health.routes.ts'
import { createKeyManager, type KeyLifecycle, type KeyManager } from './keys/key-manager.ts'
import { createRedisKeyStore } from './keys/redis-key.store.ts'
import { createMemoryKeyStore } from './keys/memory-key.store.ts'
import { StoreUnavailableError } from './errors.ts'
import { jwksRoutes } from './routes/jwks.routes.ts'
import { metadataRoutes } from './routes/metadata.routes.ts'
import { createAuditLog, requestAudit, type AuditSink } from './audit/audit-log.ts'
import { createMetrics, type Metrics } from './admin/metrics.ts'
import { createServiceMetrics } from './admin/service-metrics.ts'
import { adminSessionsRoutes } from './admin/admin-sessions.routes.ts'
import { oauthRoutes } from './routes/oauth.routes.ts'
import { registerCors } from './plugins/cors.plugin.ts'
import { registerAdminListener } from './admin/admin-listener.plugin.ts'
import { sessionsRoutes } from './routes/sessions.routes.ts'
import { createMemorySessionStore } from './sessions/memory-session.store.ts'
import { createRedisSessionStore } from './sessions/redis-session.store.ts'
import { createSessionService } from './sessions/session.service.ts'
import { createAccessTokenIssuer } from './tokens/access-token.ts'
import { createMemoryExchangeCounter, createRedisExchangeCounter, limitExchanges } from './better-auth/subject-token-replay.ts'
import { createSubjectTokenVerifier } from './better-auth/verify-subject-token.ts'

/** What buildApp may be handed instead of creating it (tests, benchmarks). */
export interface Deps {
  /** A Redis client (one node, Cluster or Sentinel) to use, not closed by close(). Default: one from the Redis settings, or the in-process store when no Redis mode is set. */
  redis?: RedisClient
  clock?: Clock
  /** fetch used for BetterAuth's JWKS. */
  fetch?: typeof globalThis.fetch
  /** Receives every audit event as well as the log (tests assert on it). */
  audit?: AuditSink
}

export interface TokenService {
  /** The public listener: /oauth/*, /.well-known/*, /sessions, health. */
  publicApp: FastifyInstance
  /** The admin listener (SPEC §9), or null when ADMIN_TOKEN is unset. */
  adminApp: FastifyInstance | null
  /** Signing keys: the current key for signing, published keys for local verification, the JWKS. */
  keys: KeyManager
  /** Prometheus registry served at the admin listener's /metrics; register counters here. */
  metrics: Metrics
  close(): Promise<void>
}

const openApiInfo = {
  title: 'token-service',
  version: '0.1.0',
  description: 'RFC 8693 token exchange, rotating refresh tokens (RFC 6749 §6), revocation (RFC 7009), sessions, JWKS and RFC 8414 metadata (SPEC §3–§7). Forms are application/x-www-form-urlencoded.',
}

/** Trust X-Forwarded-* only from configured proxies (checklist R58); never `true`. */
function trustProxy(config: Config): string[] | false {
  return config.TRUST_PROXY.length > 0 ? [...config.TRUST_PROXY] : false
}

export async function buildApp(config: Config, deps: Deps = {}): Promise<TokenService> {
  const clock = deps.clock ?? systemClock
  const ownsRedis = deps.redis === undefined && config.redis !== undefined
  // Cluster and Sentinel settings are validated but not wired into the client yet: refuse rather than fall back to memory.
  const redis = deps.redis ?? (config.redis ? createRedisClient(config.redis) : null)
  const durability = config.redis ? { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs } : undefined
  let connecting: Promise<unknown> = Promise.resolve()
  if (ownsRedis && redis) {
    // A Redis that is down at start is not fatal: readiness says so and requests get 503 until it returns.
    connecting = redis.connect().catch(() => undefined)
  }

  const publicApp = Fastify({
    logger: loggerOptions(config.LOG_LEVEL),
    trustProxy: trustProxy(config),
    bodyLimit: 16 * 1024,
    ...requestIdServerOptions(),
  })
  publicApp.setErrorHandler(errorHandler)
  publicApp.setNotFoundHandler(notFoundHandler)
  await publicApp.register(requestIdPlugin)
  // GET /openapi.json: the public routes as their schemas (packages/contracts) declare them.
  await publicApp.register(openApiPlugin, { info: openApiInfo, components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068 at+jwt)' } } } })
  await registerCors(publicApp, config)
  const metrics = createMetrics()
  const serviceMetrics = createServiceMetrics(metrics)
  serviceMetrics.observe(publicApp, 'public')
  publicApp.addHook('onRequest', (_request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff')
    done()
  })
  // The admin API is never served here (SPEC §9); a probe for it is refused with a plain 404
  // and written to the audit log like every other refused admin call (checklist R33, R60).
  const publicAudit = requestAudit(createAuditLog(publicApp.log, deps.audit), clock)
  publicApp.addHook('onResponse', (request, reply, done) => {
    done()
    if (!request.url.startsWith('/admin')) return
    const path = request.url.split('?', 1)[0] ?? ''
    if (path !== '/admin' && !path.startsWith('/admin/')) return
    publicAudit(request, { type: 'admin', action: `${request.method} ${path.slice(0, 200)}`, outcome: 'failure', status: reply.statusCode, cause: 'admin_on_public_listener' })
  })

  // Keys: RedisClient when there is a Redis client, else the in-process store (config refuses that in production).
  const keyStore = redis ? createRedisKeyStore({ redis, prefix: config.REDIS_PREFIX, log: publicApp.log, durability }) : createMemoryKeyStore({ clock })
  const keyEvents = {
    rotated: metrics.counter('token_service_key_rotations_total', 'Signing-key rotations by trigger (schedule, admin).', ['trigger']),
    revoked: metrics.counter('token_service_key_revocations_total', 'Signing keys revoked (emergency).'),
    removed: metrics.counter('token_service_keys_removed_total', 'Retired or revoked signing keys removed after their lifetime.'),
    created: metrics.counter('token_service_keys_created_total', 'Signing keys created to complete the key set (first start).'),
  }
  const keys: KeyLifecycle = createKeyManager({
    config,
    store: keyStore,
    clock,
    log: publicApp.log.child({ component: 'keys' }),
    onEvent: (event) => {
      if (event.type === 'rotated') keyEvents.rotated.inc({ trigger: event.trigger })
      else if (event.type === 'revoked') keyEvents.revoked.inc()
      else keyEvents[event.type].inc(event.kids.length)
    },
  })
  metrics.gauge(
    'token_service_signing_keys',
    'Signing keys by state, as this instance last loaded them.',
    () => (['current', 'next', 'retired', 'revoked'] as const).map((state) => ({ labels: { state }, value: keys.snapshot().filter((k) => k.state === state).length })),
    ['state'],
  )
  metrics.gauge('token_service_signing_keys_loaded', '1 when this instance has a signing key loaded.', () => [{ value: keys.loaded ? 1 : 0 }])
  await connecting
  try {
    await keys.init()
  } catch (error) {
    // Redis down at start is not fatal: /readyz reports keys=false and the key manager retries every second
    // in the background. Anything else (e.g. a KEY_ENCRYPTION_KEY that cannot open the stored keys) is.
    if (!(error instanceof StoreUnavailableError)) {
      await keys.close()
      await keyStore.close()
      if (ownsRedis && redis) closeRedisClient(redis)
      throw error
    }
    publicApp.log.warn({ err: error }, 'signing keys not loaded yet (state store unavailable); retrying in the background')
  }

  const readiness = async () => {
    const checks: Record<string, boolean> = {}
    // A quarter of the request deadline: readiness fails fast while Redis hangs (docs/operations.md §8).
    checks.store = redis ? await pingWithin(redis, (config.redis?.requestDeadlineMs ?? 1000) / 4) : true
    checks.keys = keys.loaded
    return { ready: Object.values(checks).every(Boolean), checks }
  }
  await publicApp.register(healthRoutes, { readiness })
  await publicApp.register(jwksRoutes, { keys })
  await publicApp.register(metadataRoutes, { config })

  // Sessions and refresh tokens (SPEC §3, §6): in Redis when there is a client, else in-process.
  const sessionPolicy = { idleMs: config.REFRESH_IDLE_TTL * 1000, graceMs: config.REFRESH_REUSE_GRACE * 1000, maxPerUser: config.MAX_SESSIONS_PER_USER }
  const sessionStore = redis ? createRedisSessionStore(redis, { ...sessionPolicy, prefix: config.REDIS_PREFIX, clock, durability }) : createMemorySessionStore(sessionPolicy, clock)
  const sessions = serviceMetrics.instrumentSessions(createSessionService({ store: sessionStore, clock, absoluteTtlSeconds: config.REFRESH_TOKEN_TTL, onRotate: serviceMetrics.onRotate }))
  // BetterAuth's JWKS fetch carries the id of the request that needed it.
  const upstream = limitExchanges(createSubjectTokenVerifier(config, { clock, onKeySetEvent: serviceMetrics.onKeySetEvent, fetch: withRequestId(deps.fetch) }), {
    counter: redis ? createRedisExchangeCounter(redis, config.REDIS_PREFIX) : createMemoryExchangeCounter(clock),
    max: config.SUBJECT_TOKEN_MAX_EXCHANGES,
    clock,
    clockToleranceSec: config.CLOCK_TOLERANCE,
  })
  void upstream.warmUp()
  const accessTokens = createAccessTokenIssuer({ issuer: config.ISSUER, ttlSeconds: config.ACCESS_TOKEN_TTL, keys, now: () => clock.now() })
  await publicApp.register(oauthRoutes, { context: { config, clock, upstream, sessions, accessTokens, audit: publicAudit }, redis, keys })
  await publicApp.register(sessionsRoutes, { config, clock, keys, sessions, audit: publicAudit })

  let adminApp: FastifyInstance | null = null
  if (config.ADMIN_TOKEN) {
    adminApp = Fastify({
      logger: loggerOptions(config.LOG_LEVEL),
      trustProxy: trustProxy(config),
      bodyLimit: 4 * 1024,
      ...requestIdServerOptions(),
    })
    adminApp.setErrorHandler(errorHandler)
    await adminApp.register(requestIdPlugin)
    serviceMetrics.observe(adminApp, 'admin')
    await adminApp.register(healthRoutes, { readiness })
    await registerAdminListener(adminApp, {
      config,
      clock,
      adminToken: config.ADMIN_TOKEN,
      redis,
      keys,
      metrics,
      audit: requestAudit(createAuditLog(adminApp.log, deps.audit), clock),
    })
    // After the admin listener's hooks, so the bearer check, rate limit and audit cover it.
    await adminApp.register(adminSessionsRoutes, { sessions })
  }

  void clock
  return {
    publicApp,
    adminApp,
    keys,
    metrics,
    async close() {
      await publicApp.close()
      if (adminApp) await adminApp.close()
      await keys.close()
      await keyStore.close()
      if (ownsRedis && redis) closeRedisClient(redis)
    },
  }
}
