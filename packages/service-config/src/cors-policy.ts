/** What a service allows cross-origin (CORS_ORIGINS), for @fastify/cors's per-request delegator. */
export interface CorsPolicy {
  /** CORS_ORIGINS: exact origins, never `*`. */
  readonly origins: readonly string[]
  /** The methods the public route at this path accepts; undefined: no public route, no CORS. */
  methodsOf(path: string): readonly string[] | undefined
  readonly exposedHeaders: readonly string[]
  /** Whether this allowed origin may send credentials (cookies) to this path; default never. */
  credentials?(path: string, origin: string): boolean
}

/** @fastify/cors options for one request: `origin: false` (no CORS headers at all) unless the origin is listed and the path is a public route. */
export function corsAnswer(policy: CorsPolicy, url: string, origin: string | undefined) {
  const path = url.split('?', 1)[0] ?? ''
  const methods = policy.methodsOf(path)
  const allowed = methods !== undefined && origin !== undefined && policy.origins.includes(origin)
  return {
    origin: allowed ? origin : (false as const),
    methods: [...(methods ?? [])],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: [...policy.exposedHeaders],
    credentials: allowed && (policy.credentials?.(path, origin) ?? false),
    maxAge: 600,
  }
}
