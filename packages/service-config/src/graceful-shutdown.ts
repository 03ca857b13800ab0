import { duration } from './variables.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { Server as NetServer } from 'node:net'

/** Where a shutting-down process is: serving, draining (not ready, still serving), closing (listeners closed). */
export type ShutdownPhase = 'serving' | 'draining' | 'closing'

/** A 503 answer in the service's own error format. */
export interface UnavailableAnswer {
  contentType: string
  body: string
}

export interface GracefulShutdownOptions {
  /** The HTTP servers of the process's listeners (Fastify's `app.server`). */
  servers: readonly Server[]
  /** Closes everything (the Fastify apps, then databases, Redis…); called once, after the drain. */
  close: () => Promise<unknown>
  /** How long the process stays up, not ready but serving, before it closes (SHUTDOWN_DRAIN). */
  drainMs: number
  /** The 503 of the readiness path while draining (`draining`), and of any request reaching a closing listener (`closing`). */
  unavailable: (phase: Exclude<ShutdownPhase, 'serving'>, path: string) => UnavailableAnswer
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void }
  /** Answered 503 from the first signal on, so the gateway and orchestrator stop routing here. Default `/readyz`. */
  readinessPath?: string
  /** Default SIGTERM and SIGINT; empty: only {@link GracefulShutdown.shutdown} starts it. */
  signals?: readonly NodeJS.Signals[]
  /** Exit after close (default process.exit); a close that hangs exits 1 after `drainMs + forceExitMs`. */
  exit?: (code: number) => void
  /** Default 10_000. */
  forceExitMs?: number
  /** After the drain, how long connections accepted before the port closed may take to finish; default 1000. */
  quiesceMs?: number
}

export interface GracefulShutdown {
  readonly phase: ShutdownPhase
  /** Starts the shutdown (what a signal does); a second call during the drain skips the rest of it. */
  shutdown(reason: string): Promise<void>
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const connectionCount = (server: Server) => new Promise<number>((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)))

/**
 * Stops accepting without cutting any connection, then lets the ones already accepted finish:
 * each response during the drain carries `Connection: close`, so they end by themselves. Node's
 * http close() would also destroy every connection without a request yet, including one whose
 * request is still in the kernel buffer (the gateway sees a reset after sending, which it may not
 * retry for a POST); so idle ones are closed only after they had time to deliver a request.
 */
async function stopAccepting(servers: readonly Server[], quiesceMs: number): Promise<void> {
  for (const server of servers) if (server.listening) NetServer.prototype.close.call(server)
  const started = Date.now()
  let idleClosed = false
  while (Date.now() - started < quiesceMs) {
    const counts = await Promise.all(servers.map(connectionCount))
    if (counts.every((count) => count === 0)) return
    if (!idleClosed && Date.now() - started >= Math.min(100, quiesceMs / 2)) {
      idleClosed = true
      for (const server of servers) server.closeIdleConnections()
    }
    await settle(10)
  }
}

/** Seconds a client should wait before retrying elsewhere or here (another instance is usually ready). */
const retryAfterSeconds = '1'

/**
 * Graceful shutdown without dropped requests (issue 17). On the first signal:
 * 1. the readiness path answers 503 at once, so health checks take the instance out of rotation;
 * 2. for `drainMs` everything else is still served, each response with `Connection: close`, so
 *    keep-alive connections end politely after a response instead of being cut while a
 *    request may be on its way;
 * 3. then the listeners stop accepting (a gateway's connect now fails before it sends anything,
 *    which it may safely retry on another instance) and the connections already accepted finish
 *    (up to `quiesceMs`; idle keep-alive ones are closed);
 * 4. then `close()` (Fastify: in-flight requests complete, hooks close Redis and databases); a
 *    request that still reaches a closing listener gets the service's 503 with `Retry-After`
 *    instead of Fastify's generic one.
 * A second signal during the drain closes at once.
 */
export function gracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const readinessPath = options.readinessPath ?? '/readyz'
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let phase: ShutdownPhase = 'serving'
  let skipDrain: (() => void) | undefined
  let done: Promise<void> | undefined

  const answer = (res: ServerResponse, which: Exclude<ShutdownPhase, 'serving'>, path: string) => {
    const { contentType, body } = options.unavailable(which, path)
    res.writeHead(503, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'retry-after': retryAfterSeconds,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'close',
    })
    res.end(body)
  }

  for (const server of options.servers) {
    // Fastify's handler is the server's 'request' listener; ours runs in front of it.
    const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[]
    server.removeAllListeners('request')
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (phase !== 'serving') {
        const path = (req.url ?? '').split('?')[0]!
        if (phase === 'closing') return answer(res, 'closing', path)
        if (path === readinessPath) return answer(res, 'draining', path)
        res.setHeader('connection', 'close')
      }
      for (const handler of handlers) handler.call(server, req, res)
    })
  }

  async function run(reason: string): Promise<void> {
    phase = 'draining'
    options.log.info({ event: 'shutdown', phase, reason, drainMs: options.drainMs }, 'draining: not ready, still serving')
    if (options.drainMs > 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.drainMs)
        skipDrain = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    await stopAccepting(options.servers, options.quiesceMs ?? 1000)
    phase = 'closing'
    options.log.info({ event: 'shutdown', phase }, 'closing')
    const force = setTimeout(() => exit(1), options.forceExitMs ?? 10_000)
    force.unref()
    try {
      await options.close()
      exit(0)
    } catch (error) {
      options.log.error({ err: error, event: 'shutdown_failed' }, 'error while closing')
      exit(1)
    } finally {
      clearTimeout(force)
    }
  }

  function shutdown(reason: string): Promise<void> {
    if (done) {
      skipDrain?.()
      return done
    }
    done = run(reason)
    return done
  }

  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as const)) process.on(signal, () => void shutdown(signal))

  return {
    get phase() {
      return phase
    },
    shutdown,
  }
}

/**
 * SHUTDOWN_DRAIN, the same in every service: seconds between the first SIGTERM and closing the
 * listeners. Default 5: longer than a gateway needs to see a failed readiness probe or a refused
 * connect (nginx retries a refused connect on the next server at once), and well under the 10 s
 * `docker stop` and Kubernetes give before SIGKILL together with the close.
 */
export const shutdownDrainVariable = () =>
  duration({
    unit: 'seconds',
    default: 5,
    minimum: 0,
    maximum: 120,
    description:
      'Graceful-shutdown drain: after SIGTERM/SIGINT, `/readyz` answers 503 at once while every other request is still served (with `Connection: close`) for this long; then the listeners close, in-flight requests finish and the process exits. `0`: close at once. A second signal skips the rest of the drain. Keep it above your load balancer’s health-check interval × failures to mark down (see docs/operations.md).',
  })
