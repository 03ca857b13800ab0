import t from 'tap'
import { InvalidGrant, InvalidScope, InvalidTarget } from '../../src/errors.ts'
import { sessionIdOf } from '../../src/tokens/refresh-token.codec.ts'
import { absoluteTtlSeconds, day, fixture, kinds, policy, rejectsWith, startInput } from './session-store-fixture.ts'

// Starting and refreshing sessions: rotation, the grace window, reuse detection, binding and lifetimes.
for (const kind of kinds) {
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
      for (const bad of ['eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', '', `${'x'.repeat(64)}=`, 'a'.repeat(63), '../../etc'.padEnd(64, 'a')]) {
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
      await rejectsWith(t, service.refresh({ refreshToken: start.refreshToken, clientId: 'cli', scope: ['todos:read', 'todos:write'] }), InvalidScope, 'widening refused')
      await rejectsWith(t, service.refresh({ refreshToken: start.refreshToken, clientId: 'cli', audience: 'other-api' }), InvalidTarget, 'other audience refused')
      const narrowed = await service.refresh({ refreshToken: start.refreshToken, clientId: 'cli', scope: ['todos:read'] })
      t.same(narrowed.session.scope, ['todos:read'], 'the session keeps its scope')
    })
  })
}
