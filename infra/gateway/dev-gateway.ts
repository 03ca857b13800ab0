import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { Readable } from 'node:stream'
import replyFrom from '@fastify/reply-from'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { serializeRequest } from '@todo-auth/service-config'
import { requestIdServerOptions } from '@todo-auth/observability'
import { upstreamServers, type GatewayConfig } from './gateway-config.ts'
import { loadRouteTable, matchRoute, type RouteTable } from './routes.ts'

/** Same headers as nginx's `location /` (default.conf.template). */
export const webHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
}

interface WebFile {
  body: Buffer
  type: string
}

/** The demo page's files, read once: only names found at start-up are served, so no path can escape WEB_ROOT. */
function loadWebFiles(webRoot: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>()
  for (const name of readdirSync(webRoot)) {
    const path = join(webRoot, name)
    if (name.startsWith('.') || !statSync(path).isFile()) continue
    const file = { body: readFileSync(path), type: contentTypes[extname(name)] ?? 'application/octet-stream' }
    files.set(`/${name}`, file)
    if (name === 'index.html') files.set('/', file)
  }
  return files
}

/** Request bodies, buffered up to the limit, by request (the proxied request gets an exact Content-Length, as from nginx). */
const bodies = new WeakMap<object, Buffer>()

/**
 * The development gateway: the route table of routes.json in front of the
 * services, for machines without nginx. Every method is forwarded (CORS preflights too:
 * CORS is answered by the services, CORS_ORIGINS). It forwards the same X-Forwarded-*
 * headers, enforces the same body limit and serves web/ with the same headers.
 */
export async function buildDevGateway(config: GatewayConfig, table: RouteTable = loadRouteTable()): Promise<FastifyInstance> {
  const app = Fastify({
    // No query string in a log line (a token in a URL must not reach the logs, R19).
    logger: { level: config.logLevel, serializers: { req: serializeRequest } },
    bodyLimit: table.bodyLimitBytes,
    // Long todo ids and query strings are fine; the services judge them.
    maxParamLength: 8192,
    // Forwarding decisions use the socket address only: this is the edge.
    trustProxy: false,
    // As nginx: the client's X-Request-Id when it is valid, else a new one; it goes to the service.
    ...requestIdServerOptions(),
  })
  const webFiles = loadWebFiles(config.webRoot)

  // Every body, whatever its type, is forwarded as the bytes received (never re-encoded).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    bodies.set(request, body as Buffer)
    done(null, Readable.from([body as Buffer]))
  })

  // No retries: a POST must reach a service at most once, and a 503 is the service's answer.
  // Idle upstream connections closed after 3 s by the gateway itself, as nginx's keepalive_timeout:
  // before a draining service (SHUTDOWN_DRAIN) would close them under a request in flight.
  await app.register(replyFrom, {
    retryMethods: [],
    disableRequestLogging: true,
    undici: { connections: 32, headersTimeout: 30_000, bodyTimeout: 30_000, keepAliveTimeout: 3_000, keepAliveMaxTimeout: 3_000 },
  })

  // Round robin over each upstream's servers, as nginx balances an upstream block.
  const servers = Object.fromEntries(Object.entries(config.upstreams).map(([name, value]) => [name, upstreamServers(value)])) as Record<keyof GatewayConfig['upstreams'], string[]>
  let turn = 0
  const pick = (target: keyof GatewayConfig['upstreams']) => {
    const list = servers[target]
    return list[turn++ % list.length]!
  }

  const forward = (request: FastifyRequest, reply: FastifyReply) => {
    const pathname = request.url.split('?')[0] ?? '/'
    const target = matchRoute(table, pathname)
    if (target === 'web') return serveWeb(request, reply, pathname)
    return reply.from(pathname, {
      getUpstream: () => `http://${pick(target)}`,
      rewriteRequestHeaders: (req, headers) => {
        const out = { ...headers }
        // As nginx: Host as the client sent it, the client address replaces any X-Forwarded-For.
        const clientHost = req.headers.host
        if (clientHost !== undefined) out.host = clientHost
        out['x-forwarded-for'] = req.socket.remoteAddress ?? ''
        out['x-forwarded-proto'] = 'http'
        if (clientHost !== undefined) out['x-forwarded-host'] = clientHost
        else delete out['x-forwarded-host']
        delete out.forwarded
        delete out['x-real-ip']
        out['x-request-id'] = req.id
        const body = bodies.get(req)
        if (body !== undefined) {
          delete out['transfer-encoding']
          out['content-length'] = String(body.length)
        }
        return out
      },
      onError: (rep, { error }) => {
        rep.log.warn({ err: error, upstream: target }, 'upstream failed')
        const status = (error as { statusCode?: number }).statusCode === 504 ? 504 : 502
        rep
          .code(status)
          .type('text/plain')
          .send(status === 504 ? 'Gateway Timeout\n' : 'Bad Gateway\n')
      },
    })
  }

  const serveWeb = (request: FastifyRequest, reply: FastifyReply, pathname: string) => {
    reply.headers(webHeaders)
    reply.header('x-request-id', request.id)
    const file = webFiles.get(pathname)
    if (!file) return reply.code(404).type('text/plain').send('Not Found\n')
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply.code(405).header('allow', 'GET, HEAD').type('text/plain').send('Method Not Allowed\n')
    return reply.type(file.type).send(file.body)
  }

  app.all('/', forward)
  app.all('/*', forward)
  app.setNotFoundHandler(forward)
  return app
}
