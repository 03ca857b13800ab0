import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import { InvalidGrant, InvalidScope, InvalidTarget } from '../../src/errors.ts'
import { createMemorySessionStore } from '../../src/sessions/memory-session.store.ts'
import { createRedisSessionStore } from '../../src/sessions/redis-session.store.ts'
import { createSessionService, type SessionService } from '../../src/sessions/session.service.ts'
import type { SessionStore } from '../../src/sessions/session.store.ts'
import { hashRefreshToken, sessionIdOf } from '../../src/tokens/refresh-token.codec.ts'
import { testClock } from '../helpers/build.ts'

// One suite, run against both implementations: they must behave the same (issue 2 item 5).

const day = 86_400_000
const policy = { idleMs: 3 * day, graceMs: 10_000 }
const absoluteTtlSeconds = 7 * 86_400

interface Fixture {
  store: SessionStore
  service: SessionService
  clock: ReturnType<typeof testClock>
  redis: Redis | null
  prefix: string
}

type Kind = 'redis' | 'memory'

async function fixture(t: Test, kind: Kind, overrides: Partial<typeof policy> = {}): Promise<Fixture> {
  const clock = testClock()
  const settings = { ...policy, ...overrides }
  if (kind === 'memory') {
    const store = createMemorySessionStore(settings, clock)
    return { store, service: createSessionService({ store, clock, absoluteTtlSeconds }), clock, redis: null, prefix: '' }
  }
  const { prefix, cleanup } = createTestRedisPrefix('ts-sess')
  const redis = new Redis(testRedisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  await redis.connect()
  t.teardown(async () => {
    await cleanup()
    redis.disconnect()
  })
  const store = createRedisSessionStore(redis, { ...settings, prefix, clock })
  return { store, service: createSessionService({ store, clock, absoluteTtlSeconds }), clock, redis, prefix }
}

const identity = (sub = 'user-1') => ({ sub, email: `${sub}@example.com`, roles: ['user'] })
const startInput = (sub = 'user-1', clientId = 'cli') => ({
  identity: identity(sub),
  clientId,
  scope: ['todos:read', 'todos:write'],
  audience: 'todo-api',
  userAgent: 'test-agent/1.0',
})

async function rejectsWith(t: Test, promise: Promise<unknown>, type: new (...args: never[]) => Error, message: string) {
  try {
    await promise
    t.fail(`${message}: expected ${type.name}`)
  } catch (error) {
    t.type(error, type, message)
  }
}

for (const kind of ['redis', 'memory'] as const) {
  t.test(`${kind} store`, async (t) => {
    t.test('a session starts with a 256-bit opaque token and keeps the record it was given', async (t) => {
      const { service, clock } = await fixture(t, kind)
      const { session, refreshToken } = await service.start(startInput())
      t.match(refreshToken, /^[A-Za-z0-9_-]{64}$/)
      t.equal(Buffer.from(refreshToken, 'base64url').length, 48, '16 bytes of session id and 32 random bytes')
      t.equal(sessionIdOf(refreshToken), session.sid)
      t.equal(session.expiresAt, clock.now() + absoluteTtlSeconds * 1000)
      const [listed] = await service.list('user-1')
      t.same(listed, session)
    })

    t.test('a full rotation chain over many refreshes keeps one session and spends every old token', async (t) => {
      const { service, clock } = await fixture(t, kind, { graceMs: 0 })
      const start = await service.start(startInput())
      const chain = [start.refreshToken]
      for (let i = 0; i < 40; i++) {
        clock.advance(60_000)
        const next = await service.refresh({ refreshToken: chain.at(-1)!, clientId: 'cli' })
        t.equal(next.session.sid, start.session.sid)
        t.equal(next.session.lastUsedAt, clock.now())
        t.equal(next.session.expiresAt, start.session.expiresAt, 'refreshing never extends the absolute lifetime')
        t.not(next.refreshToken, chain.at(-1))
        chain.push(next.refreshToken)
      }
      t.equal(new Set(chain).size, chain.length, 'every token is new')
      t.equal((await service.list('user-1')).length, 1)
    })

    t.test('a repeat inside the grace window returns the same successor and leaves one chain', async (t) => {
      const { service, clock } = await fixture(t, kind)
      const { refreshToken } = await service.start(startInput())
      const first = await service.refresh({ refreshToken, clientId: 'cli' })
      clock.advance(9_000)
      const repeat = await service.refresh({ refreshToken, clientId: 'cli' })
      t.equal(repeat.refreshToken, first.refreshToken)
      const next = await service.refresh({ refreshToken: first.refreshToken, clientId: 'cli' })
      t.not(next.refreshToken, first.refreshToken)
      t.equal((await service.list('user-1')).length, 1)
    })

    t.test('a spent token replayed after the grace window revokes the session, newest token included', async (t) => {
      const { service, clock, store } = await fixture(t, kind)
      const { refreshToken, session } = await service.start(startInput())
      const first = await service.refresh({ refreshToken, clientId: 'cli' })
      clock.advance(10_000)
      await rejectsWith(t, service.refresh({ refreshToken, clientId: 'cli' }), InvalidGrant, 'the replay is refused')
      await rejectsWith(t, service.refresh({ refreshToken: first.refreshToken, clientId: 'cli' }), InvalidGrant, 'the newest token died with it')
      t.same(await service.list('user-1'), [])
      t.equal(await store.revokeForUser('user-1', session.sid), false)
    })

    t.test('an older spent token (not the last one) is reuse even inside the grace window', async (t) => {
      const { service } = await fixture(t, kind)
      const a = await service.start(startInput())
      const b = await service.refresh({ refreshToken: a.refreshToken, clientId: 'cli' })
      const c = await service.refresh({ refreshToken: b.refreshToken, clientId: 'cli' })
      await rejectsWith(t, service.refresh({ refreshToken: a.refreshToken, clientId: 'cli' }), InvalidGrant, 'a is two generations old')
      await rejectsWith(t, service.refresh({ refreshToken: c.refreshToken, clientId: 'cli' }), InvalidGrant, 'the session is gone')
    })

    t.test('an unknown token naming a live session is refused without harming the session', async (t) => {
      const { service } = await fixture(t, kind)
      const { refreshToken, session } = await service.start(startInput())
      const forged = Buffer.concat([Buffer.from(session.sid, 'base64url'), Buffer.alloc(32, 7)]).toString('base64url')
      await rejectsWith(t, service.refresh({ refreshToken: forged, clientId: 'cli' }), InvalidGrant, 'forged token refused')
      const next = await service.refresh({ refreshToken, clientId: 'cli' })
      t.ok(next.refreshToken, 'the real token still works')
    })

    t.test('a token is bound to its client and another client cannot use or spend it', async (t) => {
      const { service } = await fixture(t, kind)
      const { refreshToken } = await service.start(startInput('user-1', 'cli'))
      await rejectsWith(t, service.refresh({ refreshToken, clientId: 'web' }), InvalidGrant, 'wrong client refused')
      t.equal(await service.revokeByToken({ token: refreshToken, clientId: 'web' }), 'wrong_client')
      const next = await service.refresh({ refreshToken, clientId: 'cli' })
      t.ok(next.refreshToken, 'nothing was spent by the other client')
    })

    t.test('strings that are not refresh tokens (an access token, garbage) are refused', async (t) => {
      const { service } = await fixture(t, kind)
      await service.start(startInput())
      for (const bad of ['eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', '', 'x'.repeat(64) + '=', 'a'.repeat(63), '../../etc'.padEnd(64, 'a')]) {
        await rejectsWith(t, service.refresh({ refreshToken: bad, clientId: 'cli' }), InvalidGrant, JSON.stringify(bad))
      }
    })

    t.test('the absolute lifetime ends a session however often it is refreshed', async (t) => {
      const { service, clock } = await fixture(t, kind, { graceMs: 0 })
      let { refreshToken } = await service.start(startInput())
      for (let elapsed = 0; elapsed < 7 * day - day; elapsed += day) {
        clock.advance(day)
        refreshToken = (await service.refresh({ refreshToken, clientId: 'cli' })).refreshToken
      }
      clock.advance(day)
      await rejectsWith(t, service.refresh({ refreshToken, clientId: 'cli' }), InvalidGrant, 'expired at 7 days')
      t.same(await service.list('user-1'), [])
    })

    t.test('a session unused for the idle limit ends', async (t) => {
      const { service, clock } = await fixture(t, kind)
      const { refreshToken } = await service.start(startInput())
      clock.advance(policy.idleMs - 1)
      const next = await service.refresh({ refreshToken, clientId: 'cli' })
      clock.advance(policy.idleMs)
      await rejectsWith(t, service.refresh({ refreshToken: next.refreshToken, clientId: 'cli' }), InvalidGrant, 'idle too long')
    })

    t.test('refresh may narrow the scope but never widen it, and a refused widening spends nothing', async (t) => {
      const { service } = await fixture(t, kind)
      const start = await service.start({ ...startInput(), scope: ['todos:read'] })
      await rejectsWith(
        t,
        service.refresh({ refreshToken: start.refreshToken, clientId: 'cli', scope: ['todos:read', 'todos:write'] }),
        InvalidScope,
        'widening refused',
      )
      await rejectsWith(t, service.refresh({ refreshToken: start.refreshToken, clientId: 'cli', audience: 'other-api' }), InvalidTarget, 'other audience refused')
      const narrowed = await service.refresh({ refreshToken: start.refreshToken, clientId: 'cli', scope: ['todos:read'] })
      t.same(narrowed.session.scope, ['todos:read'], 'the session keeps its scope')
    })

    t.test('revoking by token works for the current and for a spent token, and is silent for unknown ones', async (t) => {
      const { service } = await fixture(t, kind, { graceMs: 0 })
      const a = await service.start(startInput())
      const b = await service.refresh({ refreshToken: a.refreshToken, clientId: 'cli' })
      t.equal(await service.revokeByToken({ token: b.refreshToken, clientId: 'cli' }), 'revoked')
      await rejectsWith(t, service.refresh({ refreshToken: b.refreshToken, clientId: 'cli' }), InvalidGrant, 'revoked')
      t.equal(await service.revokeByToken({ token: b.refreshToken, clientId: 'cli' }), 'unknown')
      t.equal(await service.revokeByToken({ token: 'not-a-token', clientId: 'cli' }), 'unknown')

      const c = await service.start(startInput())
      const d = await service.refresh({ refreshToken: c.refreshToken, clientId: 'cli' })
      t.equal(await service.revokeByToken({ token: c.refreshToken, clientId: 'cli' }), 'revoked', 'a spent token of the family revokes it too')
      await rejectsWith(t, service.refresh({ refreshToken: d.refreshToken, clientId: 'cli' }), InvalidGrant, 'the family is gone')
    })

    t.test('sessions are listed per user, newest first, and one user cannot end another user’s session', async (t) => {
      const { service, store, clock } = await fixture(t, kind)
      const one = await service.start(startInput('alice'))
      clock.advance(1000)
      const two = await service.start({ ...startInput('alice', 'web'), userAgent: null })
      const bob = await service.start(startInput('bob'))
      const listed = await service.list('alice')
      t.same(
        listed.map((s) => [s.sid, s.clientId, s.userAgent]),
        [
          [two.session.sid, 'web', null],
          [one.session.sid, 'cli', 'test-agent/1.0'],
        ],
      )
      t.equal(await service.revoke('alice', bob.session.sid), false, 'bob’s session is not alice’s')
      t.equal((await service.list('bob')).length, 1)
      t.equal(await service.revoke('alice', one.session.sid), true)
      t.equal(await store.revokeForUser('alice', one.session.sid), false, 'already gone')
      t.same((await service.list('alice')).map((s) => s.sid), [two.session.sid])
    })

    t.test('sign out everywhere ends every session of the user and no one else’s', async (t) => {
      const { service } = await fixture(t, kind)
      const sessions = await Promise.all([service.start(startInput('carol')), service.start(startInput('carol', 'web')), service.start(startInput('carol'))])
      const dave = await service.start(startInput('dave'))
      t.equal(await service.revokeAll('carol'), 3)
      for (const s of sessions) await rejectsWith(t, service.refresh({ refreshToken: s.refreshToken, clientId: s.session.clientId }), InvalidGrant, 'ended')
      t.same(await service.list('carol'), [])
      t.ok(await service.refresh({ refreshToken: dave.refreshToken, clientId: 'cli' }), 'dave is untouched')
      t.equal(await service.revokeAll('carol'), 0)
    })

    t.test('50 concurrent refreshes of one token inside the grace window all get the same successor', async (t) => {
      const { service } = await fixture(t, kind)
      const { refreshToken } = await service.start(startInput())
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => service.refresh({ refreshToken, clientId: 'cli' })))
      const tokens = results.map((r) => (r.status === 'fulfilled' ? r.value.refreshToken : 'rejected'))
      t.equal(tokens.filter((x) => x === 'rejected').length, 0, 'all succeed')
      t.equal(new Set(tokens).size, 1, 'one successor')
      const next = await service.refresh({ refreshToken: tokens[0]!, clientId: 'cli' })
      t.ok(next.refreshToken, 'the single chain continues')
      t.equal((await service.list('user-1')).length, 1)
    })

    t.test('the same race after the grace window leaves the session revoked and no live token', async (t) => {
      const { service, clock } = await fixture(t, kind)
      const { refreshToken } = await service.start(startInput())
      const first = await service.refresh({ refreshToken, clientId: 'cli' })
      clock.advance(policy.graceMs + 1)
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => service.refresh({ refreshToken, clientId: 'cli' })))
      t.equal(results.filter((r) => r.status === 'rejected' && r.reason instanceof InvalidGrant).length, 50, 'every replay refused')
      await rejectsWith(t, service.refresh({ refreshToken: first.refreshToken, clientId: 'cli' }), InvalidGrant, 'no live token')
      t.same(await service.list('user-1'), [])
    })

    t.test('a race with no grace window at all: one winner at most, then the session is revoked', async (t) => {
      const { service } = await fixture(t, kind, { graceMs: 0 })
      const { refreshToken } = await service.start(startInput())
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => service.refresh({ refreshToken, clientId: 'cli' })))
      const won = results.filter((r) => r.status === 'fulfilled')
      t.equal(won.length, 1, 'exactly one use succeeds')
      const winner = (won[0] as PromiseFulfilledResult<{ refreshToken: string }>).value.refreshToken
      await rejectsWith(t, service.refresh({ refreshToken: winner, clientId: 'cli' }), InvalidGrant, 'the winner’s successor is revoked too')
      t.same(await service.list('user-1'), [])
    })

    if (kind === 'redis') {
      t.test('Redis holds only hashes, every key has a TTL, and one session lives in one Cluster slot', async (t) => {
        const { service, redis, prefix } = await fixture(t, kind)
        const a = await service.start(startInput())
        const b = await service.refresh({ refreshToken: a.refreshToken, clientId: 'cli' })
        const keys: string[] = []
        let cursor = '0'
        do {
          const [next, found] = await redis!.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100)
          cursor = next
          keys.push(...found)
        } while (cursor !== '0')
        t.equal(keys.length, 3, 'session, spent set, user index')
        for (const key of keys) {
          const ttl = await redis!.pttl(key)
          t.ok(ttl > 0 && ttl <= absoluteTtlSeconds * 1000, `${key} has a TTL`)
          const type = await redis!.type(key)
          const dump =
            type === 'hash' ? JSON.stringify(await redis!.hgetall(key)) : type === 'set' ? JSON.stringify(await redis!.smembers(key)) : JSON.stringify(await redis!.zrange(key, '0', '-1'))
          for (const token of [a.refreshToken, b.refreshToken]) t.notOk(dump.includes(token) || key.includes(token), `${key} holds no token`)
        }
        t.ok(JSON.stringify(await redis!.smembers(`${prefix}sess:{${a.session.sid}}:spent`)).includes(hashRefreshToken(a.refreshToken)), 'the spent set holds the hash')
        const hashTag = (key: string) => /\{([^}]+)\}/.exec(key)?.[1]
        const sessionKeys = keys.filter((key) => key.startsWith(`${prefix}sess:`))
        t.equal(sessionKeys.length, 2)
        t.same(sessionKeys.map(hashTag), [a.session.sid, a.session.sid], 'both session keys share the {sid} hash tag')
      })
    }
  })
}
