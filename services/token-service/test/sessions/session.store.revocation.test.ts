import t from 'tap'
import { InvalidGrant } from '../../src/errors.ts'
import { hashRefreshToken } from '../../src/tokens/refresh-token.codec.ts'
import { absoluteTtlSeconds, fixture, kinds, policy, rejectsWith, startInput } from './session-store-fixture.ts'

// Ending sessions (by token, per user, everywhere), races on one token, and the Redis layout.
for (const kind of kinds) {
  t.test(`${kind} store`, async (t) => {
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
      t.same(
        (await service.list('alice')).map((s) => s.sid),
        [two.session.sid],
      )
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
          const dump = type === 'hash' ? JSON.stringify(await redis!.hgetall(key)) : type === 'set' ? JSON.stringify(await redis!.smembers(key)) : JSON.stringify(await redis!.zrange(key, '0', '-1'))
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
