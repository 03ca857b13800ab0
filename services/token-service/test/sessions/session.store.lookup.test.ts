import t from 'tap'
import { day, fixture, kinds, policy, startInput } from './session-store-fixture.ts'

// The read-only lookup introspection uses (RFC 7662): same behaviour on both stores.
for (const kind of kinds) {
  t.test(`${kind} store`, async (t) => {
    t.test('a current refresh token is found without being spent or counted as use', async (t) => {
      const { service, clock } = await fixture(t, kind)
      const started = await service.start(startInput())
      clock.advance(5000)
      const found = await service.inspectRefreshToken(started.refreshToken)
      t.equal(found?.sid, started.session.sid)
      t.equal(found?.sub, 'user-1')
      t.equal(found?.lastUsedAt, started.session.lastUsedAt, 'looking does not count as use')
      t.ok(await service.inspectRefreshToken(started.refreshToken), 'a second look finds it too')
      const next = await service.refresh({ refreshToken: started.refreshToken, clientId: 'cli' })
      t.ok(next.refreshToken, 'the token still rotates normally: it was never spent by looking')
    })

    t.test('a spent, revoked, idle-expired, unknown or garbage token is not found', async (t) => {
      const { service, clock } = await fixture(t, kind, { graceMs: 10_000 })
      const a = await service.start(startInput())
      const b = await service.refresh({ refreshToken: a.refreshToken, clientId: 'cli' })
      t.equal(await service.inspectRefreshToken(a.refreshToken), undefined, 'spent, even inside the grace window')
      t.equal((await service.inspectRefreshToken(b.refreshToken))?.sid, a.session.sid, 'its successor is current')
      await service.revokeByToken({ token: b.refreshToken, clientId: 'cli' })
      t.equal(await service.inspectRefreshToken(b.refreshToken), undefined, 'revoked')

      const idle = await service.start(startInput())
      clock.advance(policy.idleMs)
      t.equal(await service.inspectRefreshToken(idle.refreshToken), undefined, 'idle-expired')
      t.equal(await service.liveSession(idle.session.sid), undefined, 'its session is not live either')

      t.equal(await service.inspectRefreshToken('garbage'), undefined)
      const other = await service.start(startInput())
      t.equal(await service.inspectRefreshToken(`${other.refreshToken.slice(0, -2)}xx`), undefined, 'a wrong secret for a real session')
    })

    t.test('a live session is found by id until it ends at its absolute expiry', async (t) => {
      const { service, clock } = await fixture(t, kind, { idleMs: 30 * day })
      const started = await service.start(startInput())
      t.equal((await service.liveSession(started.session.sid))?.clientId, 'cli')
      clock.advance(7 * day)
      t.equal(await service.liveSession(started.session.sid), undefined)
      t.equal(await service.liveSession('no-such-session'), undefined)
    })
  })
}
