// Issue 17: SIGTERM makes todo-api not ready at once, keeps serving through SHUTDOWN_DRAIN, then exits 0.
import { resolve } from 'node:path'
import t from 'tap'
import { createTestSchema, probeShutdown, spawnService } from '@todo-auth/testkit'

t.test('on SIGTERM /readyz turns 503 (problem+json, Retry-After) at once while requests still succeed during the drain', async (t) => {
  const schema = await createTestSchema('t_todo_shutdown')
  t.teardown(() => schema.drop())
  const service = await spawnService({
    entry: resolve(import.meta.dirname, '../src/server.ts'),
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: schema.url, SHUTDOWN_DRAIN: '2' },
  })
  t.teardown(() => service.kill())
  t.equal((await fetch(`${service.url}/readyz`)).status, 200, 'ready before the signal')
  const probe = await probeShutdown(service, { readiness: [`${service.url}/readyz`], served: [`${service.url}/healthz`, `${service.url}/todos`] })
  t.ok(probe.notReadyAfterMs >= 0 && probe.notReadyAfterMs < 1000, `not ready ${Math.round(probe.notReadyAfterMs)} ms after SIGTERM`)
  const [ready] = probe.readiness
  t.equal(ready!.status, 503)
  t.equal(ready!.retryAfter, '1')
  t.equal(ready!.contentType, 'application/problem+json; charset=utf-8')
  t.match(ready!.body, { status: 503, code: 'ERR_SHUTTING_DOWN' })
  t.same(
    probe.served.map((s) => [s.status, s.connection]),
    [
      [200, 'close'],
      [401, 'close'],
    ],
    'routes still answer during the drain (GET /todos without a token: 401), each with Connection: close',
  )
  t.equal(probe.exitCode, 0)
  t.ok(probe.exitedAfterMs >= 2000, `after the 2 s drain (${Math.round(probe.exitedAfterMs)} ms)`)
})
