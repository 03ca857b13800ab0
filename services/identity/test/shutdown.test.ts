// Issue 17: SIGTERM makes identity not ready at once, keeps serving through SHUTDOWN_DRAIN, then exits 0.
import t from 'tap'
import { probeShutdown, startIdentity } from '@todo-auth/testkit'

t.test('on SIGTERM /readyz turns 503 at once while requests still succeed during the drain', async (t) => {
  const identity = await startIdentity({ env: { SHUTDOWN_DRAIN: '2', LOG_LEVEL: 'warn' } })
  t.teardown(() => identity.close())
  t.equal((await fetch(`${identity.url}/readyz`)).status, 200, 'ready before the signal')
  const probe = await probeShutdown(identity.service, { readiness: [`${identity.url}/readyz`], served: [`${identity.url}/healthz`, `${identity.jwksUrl}`] })
  t.ok(probe.notReadyAfterMs >= 0 && probe.notReadyAfterMs < 1000, `not ready ${Math.round(probe.notReadyAfterMs)} ms after SIGTERM`)
  const [ready] = probe.readiness
  t.equal(ready!.status, 503)
  t.equal(ready!.retryAfter, '1')
  t.same(ready!.body, { status: 'unavailable' }, "in /readyz's own shape")
  t.same(
    probe.served.map((s) => [s.status, s.connection]),
    probe.served.map(() => [200, 'close']),
    'served during the drain, each with Connection: close',
  )
  t.equal(probe.exitCode, 0)
  t.ok(probe.exitedAfterMs >= 2000, `after the 2 s drain (${Math.round(probe.exitedAfterMs)} ms)`)
})
