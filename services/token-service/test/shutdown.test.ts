// Issue 17: SIGTERM makes both listeners not ready at once, keeps serving through SHUTDOWN_DRAIN, then exits 0.
import t from 'tap'
import { probeShutdown, spawnTokenService } from '@todo-auth/testkit'

t.test('on SIGTERM /readyz (public and admin) turns 503 at once while requests still succeed during the drain', async (t) => {
  const service = await spawnTokenService({ admin: true, env: { SHUTDOWN_DRAIN: '2', LOG_LEVEL: 'warn' } })
  t.teardown(() => service.kill())
  t.equal((await fetch(`${service.url}/readyz`)).status, 200, 'ready before the signal')
  const probe = await probeShutdown(service, {
    readiness: [`${service.url}/readyz`, `${service.adminUrl}/readyz`],
    served: [`${service.url}/.well-known/jwks.json`, `${service.url}/healthz`, `${service.adminUrl}/healthz`],
  })
  t.ok(probe.notReadyAfterMs >= 0 && probe.notReadyAfterMs < 1000, `not ready ${Math.round(probe.notReadyAfterMs)} ms after SIGTERM`)
  for (const ready of probe.readiness) {
    t.equal(ready.status, 503, `${ready.url}: 503`)
    t.equal(ready.retryAfter, '1', 'with Retry-After')
    t.same(ready.body, { ready: false, checks: { shutdown: false } }, "in /readyz's own shape")
  }
  t.same(
    probe.served.map((s) => [s.status, s.connection]),
    probe.served.map(() => [200, 'close']),
    'served during the drain, each with Connection: close',
  )
  t.equal(probe.exitCode, 0, 'then closed and exited 0')
  t.ok(probe.exitedAfterMs >= 2000, `after the 2 s drain (${Math.round(probe.exitedAfterMs)} ms)`)
})
