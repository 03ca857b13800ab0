import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import { corsAnswer, type CorsPolicy } from '@todo-auth/service-config'
import type { Config } from '../config.ts'

/** The methods each public route accepts (routes/*.routes.ts); other paths (health, admin probes) get no CORS. */
function methodsOf(path: string): string[] | undefined {
  if (path === '/oauth/token' || path === '/oauth/revoke') return ['POST']
  if (path === '/.well-known/jwks.json' || path === '/.well-known/oauth-authorization-server') return ['GET']
  if (path === '/sessions') return ['GET', 'DELETE']
  if (/^\/sessions\/[^/]+$/.test(path)) return ['DELETE']
  return undefined
}

/**
 * CORS on the public listener (never the admin one) for the origins of
 * CORS_ORIGINS only, through @fastify/cors. Credentials (the refresh cookie)
 * only on /oauth/* and only for an origin a cookie client also lists in its
 * allowed origins; the grant itself still checks Origin and Sec-Fetch-Site
 * (grants/client.ts), so the cookie flow stays same-site. Any other allowed
 * origin uses a body client (`cli`).
 */
export async function registerCors(app: FastifyInstance, config: Config): Promise<void> {
  if (config.CORS_ORIGINS.length === 0) return
  const cookieOrigins = new Set(config.clients.filter((c) => c.refreshTokenDelivery === 'cookie').flatMap((c) => c.allowedOrigins))
  const policy: CorsPolicy = {
    origins: config.CORS_ORIGINS,
    methodsOf,
    // Auth challenges and rate-limit back-off (@fastify/rate-limit sends the X-RateLimit-* names).
    exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    credentials: (path, origin) => path.startsWith('/oauth/') && cookieOrigins.has(origin),
  }
  await app.register(cors, { hideOptionsRoute: true, delegator: (request, callback) => callback(null, corsAnswer(policy, request.url, request.headers.origin)) })
}
