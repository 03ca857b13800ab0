import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import { corsAnswer, type CorsPolicy } from '@todo-auth/service-config'

/** The methods each public route accepts (todo.routes.ts); other paths get no CORS. */
function methodsOf(path: string): string[] | undefined {
  if (path === '/todos') return ['GET', 'POST', 'DELETE']
  if (/^\/todos\/[^/]+$/.test(path)) return ['GET', 'PATCH', 'DELETE']
  return undefined
}

/**
 * CORS on `/todos` for the origins of CORS_ORIGINS only, through @fastify/cors
 * (preflights are answered in its onRequest hook, before the bearer check).
 * Never credentials: todo-api reads a bearer token, no cookie. Registered
 * only when the list is not empty.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return
  const policy: CorsPolicy = {
    origins,
    methodsOf,
    // Paging, created todos, auth challenges, back-off.
    exposedHeaders: ['Location', 'Link', 'WWW-Authenticate', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
  }
  await app.register(cors, { hideOptionsRoute: true, delegator: (request, callback) => callback(null, corsAnswer(policy, request.url, request.headers.origin)) })
}
