import Fastify, { type FastifyInstance } from 'fastify'
import { requestIdPlugin, requestIdServerOptions } from '@todo-auth/observability'
import { createAuth } from './auth.ts'
import type { IdentityConfig } from './config.ts'
import { openDatabase, type IdentityDatabase } from './database.ts'
import { errorHandler, guardJsonParser, notFoundHandler } from './errors.ts'
import { loggerOptions } from './logger.ts'
import { authRoutes } from './routes/auth.routes.ts'
import { healthRoutes } from './routes/health.routes.ts'
import { createSessionEvents } from './session-events/session-events.ts'
import { openApiRoutes } from './routes/openapi.routes.ts'
import { prepareAuth } from './startup.ts'

export interface AppDeps {
  /** An open database; by default one is opened from config (and closed with the app). */
  database?: IdentityDatabase
  /** Where log lines go; by default stdout. */
  logStream?: { write(line: string): void }
}

/**
 * Builds the identity app, ready to listen: database reachable, BetterAuth's
 * migrations applied and its signing key created. Throws IdentityStartupError
 * (after closing what it opened) when that is impossible.
 */
export async function buildApp(config: IdentityConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, deps.logStream),
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
    // Auth bodies are a few hundred bytes.
    bodyLimit: 64 * 1024,
    ...requestIdServerOptions(),
  })
  try {
    const database = deps.database ?? (await openDatabase(config.database, { onIdleError: (err) => app.log.warn({ err }, 'idle database connection failed') }))
    if (!deps.database) app.addHook('onClose', () => database.close())

    const sessionEvents = createSessionEvents(config, database, app)
    const auth = createAuth(config, database, app.log.child({ component: 'better-auth' }), sessionEvents?.record)
    const key = await prepareAuth(auth, database, config)
    app.log.info({ event: 'signing_key_ready', kid: key.kid, alg: key.alg, database: database.kind }, 'signing key ready')

    // JSON only: no form or text/plain "simple request" path into the auth endpoints (checklist R50).
    app.removeContentTypeParser(['text/plain'])
    guardJsonParser(app)
    app.setErrorHandler(errorHandler)
    await app.register(requestIdPlugin)
    app.setNotFoundHandler(notFoundHandler)
    app.addHook('onSend', async (_request, reply) => {
      reply.header('x-content-type-options', 'nosniff')
    })
    await app.register(healthRoutes, { database })
    await app.register(authRoutes, { auth, baseURL: config.baseURL })
    await app.register(openApiRoutes, { auth })
    await app.ready()
    sessionEvents?.relay.start()
    return app
  } catch (error) {
    await app.close()
    throw error
  }
}
