import t from 'tap'
import { buildTestApp, trustedOrigin } from './helpers.ts'

// Rate limiting is on by default (explicitly, not through NODE_ENV); TRUST_PROXY defaults to loopback.
const { app } = await buildTestApp(t)

const signIn = (remoteAddress: string, forwardedFor?: string) =>
  app.inject({
    method: 'POST',
    url: '/api/auth/sign-in/email',
    remoteAddress,
    headers: { 'content-type': 'application/json', origin: trustedOrigin, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    payload: JSON.stringify({ email: 'nobody@example.test', password: 'not the password' }),
  })

t.test('the fourth sign-in within ten seconds from one client is refused with 429 and Retry-After', async (t) => {
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await signIn('127.0.0.1', '203.0.113.7')).statusCode)
  t.same(statuses, [401, 401, 401])
  const limited = await signIn('127.0.0.1', '203.0.113.7')
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.equal((await signIn('127.0.0.1', '203.0.113.8')).statusCode, 401, 'another client behind the trusted proxy has its own budget')
})

t.test('X-Forwarded-For from a peer outside TRUST_PROXY is ignored: the limit keys on the peer', async (t) => {
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await signIn('198.51.100.1', `192.0.2.${i + 1}`)).statusCode)
  t.same(statuses, [401, 401, 401, 429])
})
