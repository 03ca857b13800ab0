import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { sql, type Kysely } from 'kysely'
import { openApiPlugin, requestIdPlugin, requestIdServerOptions, withRequestId } from '@todo-auth/observability'
import { checkJsonBody, serializeRequest } from '@todo-auth/service-config'
import { bearerAuthPlugin, createAccessTokenVerifier, createRemoteKeySet, type KeyResolver, type KeySetEvent, type RemoteKeySet } from '@todo-auth/token-verifier'
import type { TodoApiConfig } from './config.ts'
import type { Database } from './db/schema.ts'
import { registerCors } from './http/cors.plugin.ts'
import { registerErrorHandling } from './http/error-handler.ts'
import { registerHealthRoutes } from './http/health.routes.ts'
import { createHttpMetrics, registerMetrics, type HttpMetrics } from './http/metrics.ts'
import { validatorCompiler } from './http/validator-compiler.ts'
import { todoRoutes } from './todos/todo.routes.ts'

export interface TodoApiDeps {
  db: Kysely<Database>
  /** The access-token key set; default: a remote key set on config.token.jwksUrl. */
  keySet?: RemoteKeySet | KeyResolver
  /** The metrics served at /metrics; default new ones (pass them to share with a keySet built outside: createTokenKeySet's onEvent). */
  metrics?: HttpMetrics
  /** Injectable clock (ms since the epoch) for token checks. */
  now?: () => number
  /** Where logs go; default stdout. */
  logStream?: NonNullable<Exclude<FastifyServerOptions['logger'], boolean | undefined>>['stream']
}

/** token-service's JWKS as configured; `onEvent` is told of fetches and cache hits (metrics). */
export function createTokenKeySet(config: TodoApiConfig, now?: () => number, onEvent?: (event: KeySetEvent) => void): RemoteKeySet {
  return createRemoteKeySet({
    url: config.token.jwksUrl,
    algorithms: config.token.algorithms,
    timeoutMs: config.token.jwksTimeoutMs,
    cooldownMs: config.token.jwksCooldownMs,
    defaultMaxAgeMs: config.token.jwksDefaultMaxAgeMs,
    staleIfErrorMs: config.token.jwksStaleIfErrorMs,
    // token-service's JWKS fetch carries the id of the request that needed it.
    fetch: withRequestId(),
    ...(now ? { now } : {}),
    ...(onEvent ? { onEvent } : {}),
  })
}

/** Builds todo-api (SPEC §10) without listening; the caller owns the database and closes it. */
export async function buildApp(config: TodoApiConfig, deps: TodoApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(deps.logStream ? { stream: deps.logStream } : {}),
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      // No query string in any log line: tokens are never logged (R19), even when refused.
      serializers: { req: serializeRequest },
    },
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    // A valid X-Request-Id is kept (the gateway sets one), else one is generated.
    ...requestIdServerOptions(),
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  // JSON only: anything else is a 415 (R57), including Fastify's default text/plain parser.
  app.removeContentTypeParser('text/plain')
  // Fastify's own JSON parser (secure-json-parse: __proto__ and constructor.prototype refused, R56),
  // except that a body-less DELETE sent with a JSON content type (many clients always send one) is fine.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.method === 'DELETE') return done(null, undefined)
    // Too deep or a NUL character: ERR_JSON_TOO_DEEP / ERR_INVALID_CHARACTERS (400), before parsing.
    const refused = checkJsonBody(body as string)
    if (refused) return done(refused)
    parseJson(request, body as string, done)
  })
  registerErrorHandling(app)
  await app.register(requestIdPlugin)
  await registerCors(app, config.corsOrigins)
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff')
  })
  // Default deny: a /todos route without config.scopes would be served unauthenticated; refuse to start.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/todos') && route.config?.scopes === undefined) {
      throw new Error(`route ${route.method} ${route.url} declares no config.scopes`)
    }
  })

  await app.register(openApiPlugin, {
    info: { title: 'todo-api', version: '0.1.0', description: 'Todo CRUD for the caller identified by a token-service access token (SPEC §10).' },
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068 at+jwt)' } } },
  })

  const metrics = deps.metrics ?? createHttpMetrics()
  const keySet = deps.keySet ?? createTokenKeySet(config, deps.now, metrics.onKeySetEvent)
  const verifier = createAccessTokenVerifier({
    issuer: config.token.issuer,
    audience: config.token.audience,
    algorithms: config.token.algorithms,
    clockToleranceSec: config.token.clockToleranceSec,
    keySet,
    ...(deps.now ? { now: deps.now } : {}),
  })
  await app.register(bearerAuthPlugin, { verifier, realm: 'todo-api' })

  const status = () => ('status' in keySet ? (keySet as RemoteKeySet).status : undefined)
  metrics.watchKeySet(status)
  registerMetrics(app, metrics)
  registerHealthRoutes(app, {
    pingDatabase: async () => {
      await sql`select 1`.execute(deps.db)
    },
    jwksLoaded: () => status()?.loaded ?? true,
  })
  await app.register(todoRoutes, { db: deps.db })
  return app
}
