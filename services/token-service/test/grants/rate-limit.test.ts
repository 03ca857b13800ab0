import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/build.ts'

// Requests are counted whatever their outcome, so these need no BetterAuth: an unsupported grant is enough.
const hit = (app: FastifyInstance, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1', url = '/oauth/token') =>
  app.inject({
    method: 'POST',
    url,
    remoteAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: url === '/oauth/token' ? 'grant_type=password&client_id=cli' : 'token=x&client_id=cli',
  })

const limited = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '60' }

for (const store of ['redis', 'memory'] as const) {
  t.test(`past the limit a client IP gets 429 with Retry-After and too_many_requests (${store} store)`, async (t) => {
    const app = await build(t, limited, { store })
    for (let i = 0; i < 3; i++) t.equal((await hit(app.publicApp)).statusCode, 400, `request ${i + 1} passes the limiter`)
    const refused = await hit(app.publicApp)
    t.equal(refused.statusCode, 429)
    t.same(Object.keys(refused.json()).sort(), ['error', 'error_description'])
    t.equal(refused.json().error, 'too_many_requests')
    const retryAfter = Number(refused.headers['retry-after'])
    t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    t.equal(refused.headers['cache-control'], 'no-store')
    t.equal((await hit(app.publicApp, {}, '127.0.0.1', '/oauth/revoke')).statusCode, 200, '/oauth/revoke counts separately')
    t.equal((await hit(app.publicApp, {}, '10.1.2.3')).statusCode, 400, 'another peer has its own budget')
    const health = await app.publicApp.inject({ method: 'GET', url: '/healthz' })
    t.equal(health.statusCode, 200, 'other routes are not limited')
  })
}

t.test('a forged X-Forwarded-For from an untrusted peer does not dodge the limit', async (t) => {
  const app = await build(t, limited)
  for (let i = 0; i < 3; i++) await hit(app.publicApp, { 'x-forwarded-for': `198.51.100.${i}` })
  const refused = await hit(app.publicApp, { 'x-forwarded-for': '198.51.100.77' })
  t.equal(refused.statusCode, 429, 'the peer address is what counts')
})

t.test('behind a trusted proxy the limit is per client address from X-Forwarded-For, and prepended entries are ignored', async (t) => {
  const app = await build(t, { ...limited, TRUST_PROXY: '127.0.0.1' })
  for (let i = 0; i < 3; i++) t.equal((await hit(app.publicApp, { 'x-forwarded-for': '203.0.113.1' })).statusCode, 400)
  t.equal((await hit(app.publicApp, { 'x-forwarded-for': '203.0.113.1' })).statusCode, 429, 'client A is limited')
  t.equal((await hit(app.publicApp, { 'x-forwarded-for': '203.0.113.2' })).statusCode, 400, 'client B behind the same proxy is not')
  const spoofed = await hit(app.publicApp, { 'x-forwarded-for': '192.0.2.99, 203.0.113.1' })
  t.equal(spoofed.statusCode, 429, 'a client prepending a fake address is still itself')
  const direct = await hit(app.publicApp, { 'x-forwarded-for': '192.0.2.50' }, '10.9.9.9')
  t.equal(direct.statusCode, 400, 'an untrusted peer is counted by its own address')
  const again = await hit(app.publicApp, { 'x-forwarded-for': '192.0.2.51' }, '10.9.9.9')
  const third = await hit(app.publicApp, { 'x-forwarded-for': '192.0.2.52' }, '10.9.9.9')
  const fourth = await hit(app.publicApp, { 'x-forwarded-for': '192.0.2.53' }, '10.9.9.9')
  t.same([again.statusCode, third.statusCode, fourth.statusCode], [400, 400, 429])
})

t.test('the limit is kept in Redis: it holds across instances, and its keys expire', async (t) => {
  const a = await build(t, limited)
  const b = await build(t, { ...limited, REDIS_PREFIX: a.prefix, KEY_ENCRYPTION_KEY: a.config.KEY_ENCRYPTION_KEY!.toString('hex') })
  t.equal((await hit(a.publicApp)).statusCode, 400)
  t.equal((await hit(b.publicApp)).statusCode, 400)
  t.equal((await hit(a.publicApp)).statusCode, 400)
  t.equal((await hit(b.publicApp)).statusCode, 429, 'the fourth request overall, on another instance')
  const [, keys] = await a.redis!.scan('0', 'MATCH', `${a.prefix}rate-limit:*`, 'COUNT', 10_000)
  t.ok(keys.length > 0)
  for (const key of keys) t.ok((await a.redis!.pttl(key)) > 0, `${key} expires`)
})
