import t from 'tap'
import { exchange, refresh, spawnTokenService, startIdentity, startRedisServer, within } from '@todo-auth/testkit'

// A Redis that hangs (SIGSTOP: its socket stays open, nothing answers) rather than dies. Every
// store-backed request must still answer within REDIS_REQUEST_DEADLINE plus a margin, with a 503
// `temporarily_unavailable` and Retry-After; readiness fails faster still; all recovers on SIGCONT.

const deadlineMs = 1000
/** The liveness bound of this test: the deadline plus scheduling slack on a shared 2-core machine. */
const boundMs = deadlineMs + 500

const identity = await startIdentity()
t.teardown(() => identity.close())
const redis = await startRedisServer()
t.teardown(() => redis.stop())
const service = await spawnTokenService({
  identity,
  redisPrefix: 'ts-hung:',
  redisUrl: redis.url,
  env: { REDIS_REQUEST_DEADLINE: String(deadlineMs), RATE_LIMIT_MAX: '10000' },
})
t.teardown(() => service.stop())
const base = service.url

async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await call()
  return { value, ms: performance.now() - started }
}

const sessionsOf = (accessToken: string) => fetch(`${base}/sessions`, { headers: { authorization: `Bearer ${accessToken}` } })

t.test('hung Redis: every store-backed request is a bounded 503, readiness fails fast, then recovery', async (t) => {
  const user = await identity.signUp()
  const first = await exchange(base, user.jwt)
  t.equal(first.status, 200, 'exchange works while Redis answers')
  const accessToken = first.body.access_token!
  let refreshToken = first.body.refresh_token!
  t.equal((await fetch(`${base}/readyz`)).status, 200)

  redis.pause()
  t.teardown(() => redis.resume())
  // Several rounds, so the bound holds for the request that meets the hang first and for the ones after.
  for (let round = 0; round < 3; round++) {
    const [ex, re, sessions, ready] = await Promise.all([timed(() => exchange(base, user.jwt)), timed(() => refresh(base, refreshToken)), timed(() => sessionsOf(accessToken)), timed(() => fetch(`${base}/readyz`))])
    for (const [name, reply] of [
      ['exchange', ex],
      ['refresh', re],
    ] as const) {
      t.equal(reply.value.status, 503, `round ${round}: ${name} is 503`)
      t.equal(reply.value.body.error, 'temporarily_unavailable', `round ${round}: ${name} says temporarily_unavailable`)
      t.ok(Number(reply.value.retryAfter) > 0, `round ${round}: ${name} has Retry-After`)
      t.ok(reply.ms < boundMs, `round ${round}: ${name} answered in ${Math.round(reply.ms)} ms (< ${boundMs})`)
    }
    t.equal(sessions.value.status, 503, `round ${round}: /sessions is 503`)
    t.ok(Number(sessions.value.headers.get('retry-after')) > 0, `round ${round}: /sessions has Retry-After`)
    t.equal(((await sessions.value.json()) as { code?: string }).code, 'STORE_UNAVAILABLE', `round ${round}: /sessions says STORE_UNAVAILABLE`)
    t.ok(sessions.ms < boundMs, `round ${round}: /sessions answered in ${Math.round(sessions.ms)} ms`)
    t.equal(ready.value.status, 503, `round ${round}: /readyz is 503`)
    t.ok(ready.ms < deadlineMs / 2, `round ${round}: /readyz answered in ${Math.round(ready.ms)} ms (< ${deadlineMs / 2})`)
  }

  redis.resume()
  t.not(await within(10_000, async () => (await fetch(`${base}/readyz`)).status === 200), -1, 'ready again after SIGCONT')
  // A refresh sent while Redis hung may have been applied late; the rotation repeat inside the grace window
  // answers with the same successor, so the client's retry succeeds either way.
  const again = await refresh(base, refreshToken)
  t.equal(again.status, 200, 'refresh works again after Redis resumes')
  refreshToken = again.body.refresh_token!
  t.equal((await exchange(base, user.jwt)).status, 200, 'exchange works again')
  t.equal((await sessionsOf(accessToken)).status, 200, '/sessions works again')
  t.equal((await refresh(base, refreshToken)).status, 200, 'the rotated token rotates')
})
