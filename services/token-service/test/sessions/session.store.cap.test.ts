import t from 'tap'
import { InvalidGrant } from '../../src/errors.ts'
import { fixture, kinds, rejectsWith, startInput } from './session-store-fixture.ts'

// MAX_SESSIONS_PER_USER (issue 17): one BetterAuth JWT exchanged 3,000 times made 3,000 sessions.
for (const kind of kinds) {
  t.test(`${kind} store`, async (t) => {
    t.test('past the cap a new session ends the user’s oldest ones; other users are untouched', async (t) => {
      const { service, clock } = await fixture(t, kind, { maxPerUser: 3 })
      const other = await service.start(startInput('bob'))
      const made = []
      for (let i = 0; i < 5; i++) {
        made.push(await service.start(startInput('alice')))
        clock.advance(1000)
      }
      t.same(
        (await service.list('alice')).map((s) => s.sid),
        made
          .slice(2)
          .reverse()
          .map((m) => m.session.sid),
        'the newest three are listed',
      )
      for (const old of made.slice(0, 2)) await rejectsWith(t, service.refresh({ refreshToken: old.refreshToken, clientId: 'cli' }), InvalidGrant, 'an evicted session’s refresh token is dead')
      for (const kept of made.slice(2)) t.ok(await service.refresh({ refreshToken: kept.refreshToken, clientId: 'cli' }), 'a kept session refreshes')
      t.ok(await service.refresh({ refreshToken: other.refreshToken, clientId: 'cli' }), 'bob keeps his session')
    })

    t.test('concurrent exchanges of one user never leave more than the cap, and never evict the one just made', async (t) => {
      const { service } = await fixture(t, kind, { maxPerUser: 5 })
      const made = await Promise.all(Array.from({ length: 40 }, () => service.start(startInput('carol'))))
      const listed = await service.list('carol')
      t.equal(listed.length, 5, 'five live sessions after 40 exchanges at once')
      let live = 0
      for (const m of made)
        live += await service.refresh({ refreshToken: m.refreshToken, clientId: 'cli' }).then(
          () => 1,
          () => 0,
        )
      t.equal(live, 5, 'exactly five refresh tokens still work')
    })
  })
}
