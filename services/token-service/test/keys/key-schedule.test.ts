import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import { testRedisUrl } from '@todo-auth/testkit'
import { createKeyManager } from '../../src/keys/key-manager.ts'
import { createMemoryKeyStore } from '../../src/keys/memory-key.store.ts'
import { createRedisKeyStore } from '../../src/keys/redis-key.store.ts'
import { loadConfig } from '../../src/config.ts'
import { testClock } from '../helpers/build.ts'
import { fleet, silent, sleep, waitFor, type FleetMember } from './fleet.ts'

// The key set over time and across a fleet (key-schedule.ts, key-timings.ts): creation once, the
// scheduled rotation under the fleet lock, retirement, change notification. Start-up and keys:
// key-manager.test.ts.

const lifecycleTimes = { JWKS_MAX_AGE: '60', KEY_PUBLISH_MARGIN: '10', KEY_ROTATION_INTERVAL: '3600', ACCESS_TOKEN_TTL: '300', CLOCK_TOLERANCE: '30' }

async function states(member: FleetMember) {
  const all = await member.lifecycle.list()
  const count = (s: string) => all.filter((k) => k.state === s).length
  return { current: count('current'), next: count('next'), retired: count('retired'), revoked: count('revoked'), all }
}

t.test('five instances starting together on an empty prefix create exactly one current and one next key', async (t) => {
  const { members } = await fleet(t, 5)
  const { current, next, all } = await states(members[0]!)
  t.equal(all.length, 2)
  t.equal(current, 1)
  t.equal(next, 1)
  const kids = new Set(members.map((m) => m.keys.signingKey().kid))
  t.equal(kids.size, 1, 'every instance signs with the same key')
  const etags = new Set(members.map((m) => m.keys.jwks().etag))
  t.equal(etags.size, 1, 'every instance serves the same JWKS bytes')
})

t.test('a scheduled rotation happens once per fleet when due, respecting pre-publication', async (t) => {
  const clock = testClock()
  const { members } = await fleet(t, 3, lifecycleTimes, { clock })
  const first = members[0]!.keys.signingKey().kid
  clock.advance(3599_000)
  await Promise.all(members.map((m) => m.lifecycle.maintain()))
  t.equal(members[0]!.keys.signingKey().kid, first, 'not due yet')
  clock.advance(1_000)
  await Promise.all(members.map((m) => m.lifecycle.maintain()))
  const after = await states(members[0]!)
  t.same([after.current, after.next, after.retired], [1, 1, 1], 'exactly one rotation across three instances')
  // The instance that won the lock reloads at once; the others learn it from the rotation's
  // pub/sub message (their maintain() returned when they lost the lock), within a second.
  await waitFor('every instance on the new key', () => members.every((m) => m.keys.signingKey().kid !== first), 2000)
  for (const m of members) t.not(m.keys.signingKey().kid, first, 'every instance moved to the new key')
  // A second round right after does nothing: the new next key is too young and the interval restarts.
  clock.advance(70_000)
  await Promise.all(members.map((m) => m.lifecycle.maintain()))
  t.equal((await states(members[0]!)).retired, 1)
})

t.test('a retired key stays published until its tokens have expired, then leaves', async (t) => {
  const clock = testClock()
  const { members } = await fleet(t, 2, lifecycleTimes, { clock })
  const [a, b] = members as [FleetMember, FleetMember]
  const old = a.keys.signingKey()
  clock.advance(3600_000)
  // Signed by the old key an instant before the rotation, valid for ACCESS_TOKEN_TTL.
  const iat = Math.floor(clock.now() / 1000)
  const token = await new SignJWT({ sub: 'u' })
    .setProtectedHeader({ alg: old.alg, kid: old.kid })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(old.privateKey)
  await a.lifecycle.maintain()
  await b.lifecycle.reload()
  const kidsOf = (m: FleetMember) => m.keys.jwks().body.keys.map((k) => k.kid)
  t.ok(kidsOf(b).includes(old.kid), 'retired key still in the JWKS (R31)')
  t.ok(await b.keys.verificationKey({ alg: old.alg, kid: old.kid }), 'and still verifies locally')
  await jwtVerify(token, createLocalJWKSet(b.keys.jwks().body), { currentDate: new Date(clock.now() + 299_000) })
  t.pass('a token signed just before the rotation verifies against the JWKS until it expires')
  t.ok(b.keys.jwks().maxAgeSeconds <= 330, 'max-age does not outlive the removal')

  clock.advance(329_000)
  await Promise.all([a.lifecycle.maintain(), b.lifecycle.maintain()])
  t.ok(kidsOf(a).includes(old.kid), 'one second before ACCESS_TOKEN_TTL + CLOCK_TOLERANCE: still there')
  t.equal(a.keys.jwks().maxAgeSeconds, 1)
  clock.advance(1_000)
  t.notOk(kidsOf(a).includes(old.kid), 'leaves the JWKS as soon as its lifetime is over, even before maintenance')
  await Promise.all([a.lifecycle.maintain(), b.lifecycle.maintain()])
  t.notOk(
    (await a.lifecycle.list()).some((k) => k.kid === old.kid),
    'and is removed from the store',
  )
  await t.rejects(b.keys.verificationKey({ alg: old.alg, kid: old.kid }), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
})

t.test('a rotation or revocation reaches another instance within 1 s (pub/sub)', async (t) => {
  const { members } = await fleet(t, 2)
  const [a, b] = members as [FleetMember, FleetMember]
  const rotated = await a.lifecycle.rotate({ force: true })
  const rotationMs = await waitFor('b to sign with the new key', () => b.keys.signingKey().kid === rotated.current, 1000)
  t.ok(
    b.keys.jwks().body.keys.some((k) => k.kid === rotated.next),
    "the new next key is in b's JWKS",
  )
  const revoked = await a.lifecycle.revoke(rotated.current)
  t.equal(revoked.status, 'revoked')
  const revokeMs = await waitFor('b to drop the revoked key', () => !b.keys.jwks().body.keys.some((k) => k.kid === rotated.current), 1000)
  t.not(b.keys.signingKey().kid, rotated.current, 'b no longer signs with the revoked key')
  t.comment(`propagation: rotation ${rotationMs.toFixed(0)} ms, revocation ${revokeMs.toFixed(0)} ms`)
})

t.test('the periodic reload heals a missed change notification', async (t) => {
  const { members, config, redis, prefix } = await fleet(t, 1)
  const deafRedis = redis.duplicate()
  t.teardown(() => deafRedis.disconnect())
  const deaf = createRedisKeyStore({ redis: deafRedis, prefix, log: silent })
  const { subscribe: _ignored, ...rest } = deaf
  const manager = createKeyManager({
    config,
    store: { ...rest, subscribe: async () => async () => undefined },
    clock: { now: () => Date.now() },
    log: silent,
    reloadIntervalMs: 200,
  })
  t.teardown(() => manager.close())
  await manager.init()
  const rotated = await members[0]!.lifecycle.rotate({ force: true })
  const ms = await waitFor('the deaf instance to reload', () => manager.signingKey().kid === rotated.current, 2000)
  t.pass(`caught up by periodic reload in ${ms.toFixed(0)} ms`)
})

t.test('a lock holder killed mid-rotation (SIGKILL) delays the scheduled rotation only until its lock expires', async (t) => {
  const clock = testClock()
  const { members, prefix } = await fleet(t, 3, lifecycleTimes, { clock })
  const first = members[0]!.keys.signingKey().kid
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/lock-holder.ts', import.meta.url)), testRedisUrl, prefix, '1500'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  t.same(JSON.parse(line), { event: 'locked', ok: true }, 'the child holds the rotation lock')
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited

  clock.advance(3600_000)
  await Promise.all(members.map((m) => m.lifecycle.maintain()))
  t.equal(members[0]!.keys.signingKey().kid, first, "no rotation while the dead holder's lock lives")
  const mid = await states(members[0]!)
  t.same([mid.current, mid.next, mid.retired], [1, 1, 0], 'and the key set is intact')

  await sleep(1600)
  await Promise.all(members.map((m) => m.lifecycle.maintain()))
  const after = await states(members[0]!)
  t.same([after.current, after.next, after.retired], [1, 1, 1], 'after expiry exactly one rotation: one current, one next')
  for (const m of members) await waitFor('every instance to sign with the new key', () => m.keys.signingKey().kid !== first, 1000)
  t.pass('every instance signs with the new key within 1 s')
})

t.test('an abandoned lock in the in-process store expires by the clock too', async (t) => {
  const clock = testClock()
  const config = loadConfig({ ...lifecycleTimes, LOG_LEVEL: 'silent' })
  const store = createMemoryKeyStore({ clock })
  const managers = [0, 1].map(() => createKeyManager({ config, store, clock, log: silent, lockTtlMs: 30_000, background: false }))
  t.teardown(() => Promise.all(managers.map((m) => m.close())))
  // Shared in-process store: both managers need the same KEK to read each other's keys.
  await managers[0]!.init()
  clock.advance(3600_000)
  t.equal(await store.acquireLock('rotation', 'dead-holder', 30_000), true)
  await managers[0]!.maintain()
  t.equal((await managers[0]!.list()).filter((k) => k.state === 'retired').length, 0, 'blocked by the lock')
  clock.advance(30_000)
  await managers[0]!.maintain()
  t.equal((await managers[0]!.list()).filter((k) => k.state === 'retired').length, 1, 'rotated once the lock expired')
})
