import type { FastifyInstance } from 'fastify'

/** Throws (or resolves false) when the service cannot serve its contract. */
export type ReadinessProbe = () => Promise<{ ready: boolean; checks: Record<string, boolean> }>

/** `GET /healthz` (process alive) and `GET /readyz` (Redis reachable, keys loaded): SPEC §9. */
export async function healthRoutes(app: FastifyInstance, opts: { readiness: ReadinessProbe }): Promise<void> {
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' }
  })
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    let result: { ready: boolean; checks: Record<string, boolean> }
    try {
      result = await opts.readiness()
    } catch {
      result = { ready: false, checks: {} }
    }
    reply.code(result.ready ? 200 : 503)
    return { status: result.ready ? 'ready' : 'unavailable', checks: result.checks }
  })
}
