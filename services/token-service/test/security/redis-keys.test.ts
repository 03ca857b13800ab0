import t from 'tap'
import { createRedisSessionStore } from '../../src/sessions/redis-session.store.ts'
import { createSessionService } from '../../src/sessions/session.service.ts'
import { build } from '../helpers/build.ts'

// Checklist R55: nothing a client or operator sends becomes a Redis key pattern or a key of
// someone else. A `sub` reaches Redis through DELETE /admin/users/{sub}/sessions (and from a
// verified token); a session id through DELETE /sessions/{id}; neither may reach other users.

t.test('a sub full of glob, hash-tag and protocol characters ends no one else’s sessions, and is never a key verbatim', async (t) => {
  const app = await build(t, { ADMIN_RATE_LIMIT_MAX: '1000' })
  const redis = app.redis!
  const clock = { now: () => Date.now() }
  const store = createRedisSessionStore(redis, { prefix: app.prefix, idleMs: 3_600_000, graceMs: 10_000, clock })
  const sessions = createSessionService({ store, clock, absoluteTtlSeconds: 86_400 })
  const start = (sub: string) => sessions.start({ identity: { sub, email: `${sub}@example.com`, roles: ['user'] }, clientId: 'cli', scope: ['todos:read'], audience: 'todo-api', userAgent: null })
  const victims = ['alice', 'alice-2', 'user:alice', '{alice}']
  for (const sub of victims) await start(sub)

  const admin = { authorization: `Bearer ${app.config.ADMIN_TOKEN}` }
  const hostile = ['*', 'alice*', 'ali?e', 'alic[a-z]', '[a-z]*', '\\*', '{alice}*', '}', '{', 'user:*', '*:sess', 'alice\r\nFLUSHALL', 'alice\u0000', '%']
  for (const sub of hostile) {
    const response = await app.adminApp!.inject({ method: 'DELETE', url: `/admin/users/${encodeURIComponent(sub)}/sessions`, headers: admin })
    t.equal(response.statusCode, 204, `${JSON.stringify(sub)}: 204 (idempotent)`)
  }
  for (const sub of victims) t.equal((await sessions.list(sub)).length, 1, `${sub}: still signed in`)

  // Every key under the prefix is one of the documented shapes; no sub appears in a key verbatim.
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${app.prefix}*`, 'COUNT', 1000)
    cursor = next
    keys.push(...found)
  } while (cursor !== '0')
  const userKeys = keys.filter((key) => key.startsWith(`${app.prefix}user:`))
  t.equal(userKeys.length, victims.length, 'one index per user')
  for (const key of userKeys) t.match(key.slice(app.prefix.length), /^user:\{[A-Za-z0-9_-]{43}\}:sess$/, `${key}: a SHA-256 of the sub, never the sub`)
  for (const key of keys) {
    for (const sub of [...victims, ...hostile.filter((s) => s.length > 2)]) t.notOk(key.includes(`{${sub}}`), `${key} does not embed ${JSON.stringify(sub)}`)
  }

  const ended = await app.adminApp!.inject({ method: 'DELETE', url: `/admin/users/${encodeURIComponent('{alice}')}/sessions`, headers: admin })
  t.equal(ended.statusCode, 204)
  t.equal((await sessions.list('{alice}')).length, 0, 'control: the exact sub is signed out')
  for (const sub of ['alice', 'alice-2', 'user:alice']) t.equal((await sessions.list(sub)).length, 1, `${sub}: untouched by the control`)
})
