import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import type { FastifyBaseLogger } from 'fastify'
import { generateSigningKey, keyEncryptionKey } from '../../src/keys/key-crypto.ts'
import type { KeyStore, NewKey } from '../../src/keys/key.store.ts'
import { createMemoryKeyStore } from '../../src/keys/memory-key.store.ts'
import { createRedisKeyStore } from '../../src/keys/redis-key.store.ts'
import { testClock } from '../helpers/build.ts'

/**
 * One suite, two implementations: the Redis store (real Redis, this file's
 * own prefix) and the in-process store must behave the same.
 */
const silent = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => silent, level: 'silent', silent() {} } as unknown as FastifyBaseLogger
const kek = keyEncryptionKey(randomBytes(32))
const newKey = (): Promise<NewKey> => generateSigningKey('ES256', kek)

type Factory = (t: Test) => Promise<{ store: KeyStore; second: () => Promise<KeyStore>; clock: ReturnType<typeof testClock>; redis?: Redis; prefix?: string }>

const factories: Record<'redis' | 'memory', Factory> = {
  async redis(t) {
    const { prefix, cleanup } = createTestRedisPrefix('ts-keystore')
    const clients: Redis[] = []
    const client = async () => {
      const redis = new Redis(testRedisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      await redis.connect()
      clients.push(redis)
      return redis
    }
    const stores: KeyStore[] = []
    const open = async () => {
      const store = createRedisKeyStore({ redis: await client(), prefix, log: silent })
      stores.push(store)
      return store
    }
    const store = await open()
    t.teardown(async () => {
      for (const s of stores) await s.close()
      await cleanup()
      for (const c of clients) c.disconnect()
    })
    return { store, second: open, clock: testClock(), redis: clients[0]!, prefix }
  },
  async memory(t) {
    const clock = testClock()
    const store = createMemoryKeyStore({ clock })
    t.teardown(() => store.close())
    // In-process state is shared only by holders of the same object.
    return { store, second: async () => store, clock }
  },
}

for (const [name, factory] of Object.entries(factories)) {
  t.test(`${name} store`, async (t) => {
    t.test('ensure creates one current and one next, once, even when called concurrently', async (t) => {
      const { store, second, clock } = await factory(t)
      const other = await second()
      const candidates = await Promise.all(Array.from({ length: 5 }, async () => ({ current: await newKey(), next: await newKey() })))
      const outcomes = await Promise.all(candidates.map((c, i) => (i % 2 ? other : store).ensure(c, clock.now())))
      t.equal(outcomes.filter((o) => o.created.length === 2).length, 1, 'exactly one call created the pair')
      t.equal(
        outcomes.reduce((n, o) => n + o.created.length, 0),
        2,
      )
      const keys = await store.list()
      t.equal(keys.length, 2)
      t.equal(keys.filter((k) => k.state === 'current').length, 1)
      t.equal(keys.filter((k) => k.state === 'next').length, 1)
      const current = keys.find((k) => k.state === 'current')!
      t.equal(current.activatedAt, clock.now())
      t.ok(current.material?.sealedPrivateKey.startsWith('v1.'), 'the private key is stored sealed')
    })

    t.test('ensure adds only what is missing', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      const before = await store.list()
      const again = await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      t.same(again.created, [])
      t.same((await store.list()).map((k) => k.kid).sort(), before.map((k) => k.kid).sort())
    })

    t.test('rotate refuses a next key that is too young unless forced', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      clock.advance(30_000)
      const young = await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 60_000, force: false })
      t.same(young, { status: 'too_young', retryAfterMs: 30_000 })
      const forced = await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 60_000, force: true })
      t.equal(forced.status, 'rotated')
    })

    t.test('rotate moves next → current, current → retired and adds a new next, atomically', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      const before = await store.list()
      const oldCurrent = before.find((k) => k.state === 'current')!.kid
      const oldNext = before.find((k) => k.state === 'next')!.kid
      clock.advance(120_000)
      const fresh = await newKey()
      const outcome = await store.rotate({ now: clock.now(), newNext: fresh, minNextAgeMs: 60_000, force: false, expectedCurrentKid: oldCurrent })
      t.same(outcome, { status: 'rotated', current: oldNext, next: fresh.kid, retired: oldCurrent })
      const after = await store.list()
      const byKid = new Map(after.map((k) => [k.kid, k]))
      t.equal(byKid.get(oldCurrent)?.state, 'retired')
      t.equal(byKid.get(oldCurrent)?.retiredAt, clock.now())
      t.equal(byKid.get(oldNext)?.state, 'current')
      t.equal(byKid.get(oldNext)?.activatedAt, clock.now())
      t.equal(byKid.get(fresh.kid)?.state, 'next')
      t.equal(byKid.get(fresh.kid)?.createdAt, clock.now())
      t.same(byKid.get(fresh.kid)?.material, fresh.material)
    })

    t.test('a rotation based on a stale view or not yet due changes nothing', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      clock.advance(120_000)
      const stale = await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 0, force: false, expectedCurrentKid: 'someone-else' })
      t.same(stale, { status: 'stale' })
      const notDue = await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 0, force: false, activatedBefore: clock.now() - 200_000 })
      t.same(notDue, { status: 'not_due' })
      t.equal((await store.list()).length, 2)
    })

    t.test('rotate on an empty store reports incomplete', async (t) => {
      const { store, clock } = await factory(t)
      t.same(await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 0, force: true }), { status: 'incomplete' })
      t.same(await store.list(), [])
    })

    t.test('revoking the current key promotes next at once and adds a new next; the private part is destroyed', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      const before = await store.list()
      const cur = before.find((k) => k.state === 'current')!.kid
      const nxt = before.find((k) => k.state === 'next')!.kid
      const replacement = await newKey()
      clock.advance(1000)
      const outcome = await store.revoke(cur, clock.now(), replacement)
      t.same(outcome, { status: 'revoked', previousState: 'current', current: nxt, next: replacement.kid })
      const revoked = (await store.list()).find((k) => k.kid === cur)!
      t.equal(revoked.state, 'revoked')
      t.equal(revoked.revokedAt, clock.now())
      t.equal(revoked.material, undefined, 'no private key kept for a revoked kid')
      t.same(await store.revoke(cur, clock.now(), await newKey()), { status: 'already_revoked' })
    })

    t.test('revoking next replaces it; revoking a retired key only revokes it; an unknown kid is not found', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      const nxt = (await store.list()).find((k) => k.state === 'next')!.kid
      const cur = (await store.list()).find((k) => k.state === 'current')!.kid
      const replacement = await newKey()
      t.same(await store.revoke(nxt, clock.now(), replacement), { status: 'revoked', previousState: 'next', current: cur, next: replacement.kid })
      const rotated = await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 0, force: true })
      t.equal(rotated.status, 'rotated')
      const unused = await newKey()
      const retiredOutcome = await store.revoke(cur, clock.now(), unused)
      t.match(retiredOutcome, { status: 'revoked', previousState: 'retired' })
      t.notOk(
        (await store.list()).some((k) => k.kid === unused.kid),
        'the replacement is not used for a retired key',
      )
      t.same(await store.revoke('unknown-kid', clock.now(), await newKey()), { status: 'not_found' })
      t.same(await store.revoke('__proto__', clock.now(), await newKey()), { status: 'not_found' })
    })

    t.test('removeExpired deletes retired and revoked keys once their lifetime has passed', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      const first = (await store.list()).find((k) => k.state === 'current')!.kid
      await store.rotate({ now: clock.now(), newNext: await newKey(), minNextAgeMs: 0, force: true })
      t.same(await store.removeExpired(clock.now() + 59_999, 60_000), [], 'not before the lifetime')
      t.same(await store.removeExpired(clock.now() + 60_000, 60_000), [first])
      t.notOk((await store.list()).some((k) => k.kid === first))
      t.equal((await store.list()).length, 2)
    })

    t.test('replaceSealedKey swaps the sealed private key only when it is unchanged', async (t) => {
      const { store, clock } = await factory(t)
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      const key = (await store.list())[0]!
      const sealed = key.material!.sealedPrivateKey
      t.equal(await store.replaceSealedKey(key.kid, 'not-the-current-value', 'x'), false)
      t.equal(await store.replaceSealedKey(key.kid, sealed, 'v1.new'), true)
      const after = (await store.list()).find((k) => k.kid === key.kid)!
      t.equal(after.material?.sealedPrivateKey, 'v1.new')
      t.same(after.material?.publicJwk, key.material?.publicJwk, 'the public key is untouched')
      t.equal(await store.replaceSealedKey('unknown', sealed, 'x'), false)
    })

    t.test('the lock is exclusive and only its holder releases it', async (t) => {
      const { store, second } = await factory(t)
      const other = await second()
      t.equal(await store.acquireLock('rotation', 'a', 10_000), true)
      t.equal(await other.acquireLock('rotation', 'b', 10_000), false)
      t.equal(await other.releaseLock('rotation', 'b'), false, 'a non-holder cannot release')
      t.equal(await store.releaseLock('rotation', 'a'), true)
      t.equal(await other.acquireLock('rotation', 'b', 10_000), true)
    })

    t.test('changes notify subscribers of every instance', async (t) => {
      const { store, second, clock } = await factory(t)
      const other = await second()
      let notified = 0
      let resolveGotOne!: () => void
      const gotOne = new Promise<void>((resolve) => (resolveGotOne = resolve))
      const unsubscribe = await other.subscribe(() => {
        notified++
        resolveGotOne()
      })
      t.teardown(unsubscribe)
      // subscribe() resolved: the subscription is in place. Its connect also notified (a missed
      // message may need healing); count only what comes from now on.
      notified = 0
      const started = performance.now()
      await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
      await gotOne
      const waitUntil = performance.now() + 1000
      while (notified === 0 && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 10))
      t.ok(notified >= 1, 'notified')
      t.ok(performance.now() - started < 1000, 'within 1 s')
    })
  })
}

t.test('private keys at rest in Redis are not readable JWKs', async (t) => {
  const { store, redis, prefix, clock } = await factories.redis(t)
  await store.ensure({ current: await newKey(), next: await newKey() }, clock.now())
  let cursor = '0'
  const values: string[] = []
  do {
    const [next, keys] = await redis!.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100)
    cursor = next
    for (const key of keys) {
      if ((await redis!.type(key)) === 'hash') values.push(...Object.values(await redis!.hgetall(key)))
    }
  } while (cursor !== '0')
  t.ok(values.length >= 4, 'meta and material of both keys')
  for (const value of values) {
    t.notMatch(value, /"d"\s*:/, 'no private scalar in clear')
    const parsed = JSON.parse(value) as Record<string, unknown>
    t.notOk('d' in parsed)
    if (parsed.publicJwk) t.notOk('d' in (parsed.publicJwk as object), 'public JWK has no d')
  }
  for (const key of ['{signing-keys}:meta', '{signing-keys}:material']) {
    t.equal(await redis!.exists(`${prefix}${key}`), 1, `${key} exists under the prefix with its hash tag`)
  }
})
