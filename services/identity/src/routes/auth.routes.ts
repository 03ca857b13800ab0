import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { clientIpHeader, type Auth } from '../auth.ts'
import { internalError } from '../errors.ts'

export interface AuthRoutesOptions {
  auth: Auth
  /** Origin BetterAuth is configured with; requests are rebuilt against it, never the Host header. */
  baseURL: string
}

/** Request headers that describe this hop or the client address: never handed to BetterAuth. */
const droppedRequestHeaders = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'content-length',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  clientIpHeader,
])
/** Response headers Fastify sets itself (or that Set-Cookie handling replaces). */
const droppedResponseHeaders = new Set(['set-cookie', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'])

/**
 * Mounts BetterAuth at /api/auth the way its docs show for Fastify: a catch-all
 * route that rebuilds a Fetch Request (Fastify has already parsed the body) and
 * copies status, every header (several Set-Cookie included) and body back.
 */
export async function authRoutes(app: FastifyInstance, { auth, baseURL }: AuthRoutesOptions) {
  app.route({
    method: ['GET', 'POST'],
    url: '/api/auth/*',
    async handler(request, reply) {
      const response = await auth.handler(toFetchRequest(request, baseURL))
      return sendFetchResponse(request, reply, response)
    },
  })
}

function toFetchRequest(request: FastifyRequest, baseURL: string): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || droppedRequestHeaders.has(name)) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  headers.set(clientIpHeader, request.ip)
  const hasBody = request.method !== 'GET' && request.body !== undefined && request.body !== null
  if (!hasBody) headers.delete('content-type')
  return new Request(new URL(request.url, baseURL), {
    method: request.method,
    headers,
    // Only the JSON parser is registered (app.ts), so a body here is parsed JSON.
    ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
  })
}

async function sendFetchResponse(request: FastifyRequest, reply: FastifyReply, response: Response) {
  if (response.status >= 500) {
    // A 5xx never leaks BetterAuth's message (it can name tables or keys); the log has it.
    request.log.error({ status: response.status, detail: (await response.text()).slice(0, 1000) }, 'better-auth failed')
    return reply.status(500).send(internalError)
  }
  reply.status(response.status)
  for (const [name, value] of response.headers) {
    if (!droppedResponseHeaders.has(name)) reply.header(name, value)
  }
  // BetterAuth labels its JSON `application/json` alone; name the charset like every other answer (checklist R61, ASVS 4.1.1).
  if (/^application\/json\s*$/i.test(response.headers.get('content-type') ?? '')) reply.header('content-type', 'application/json; charset=utf-8')
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) reply.header('set-cookie', cookies)
  // BetterAuth's rate limiter answers with X-Retry-After only; RFC 9110 §10.2.3 names Retry-After.
  const retryAfter = response.headers.get('x-retry-after')
  if (response.status === 429 && retryAfter !== null && !response.headers.has('retry-after')) reply.header('retry-after', retryAfter)
  // Session and token responses must not be stored by any cache; the JWKS is public.
  if (!response.headers.has('cache-control') && !request.url.startsWith('/api/auth/jwks')) reply.header('cache-control', 'no-store')
  return reply.send(response.body === null ? null : Buffer.from(await response.arrayBuffer()))
}
