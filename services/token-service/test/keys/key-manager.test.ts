import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import { testRedisUrl } from '@todo-auth/testkit'
import type { FastifyBaseLogger } from 'fastify'
import { createKeyManager, type KeyLifecycle } from '../../src/keys/key-manager.ts'
import { createMemoryKeyStore } from '../../src/keys/memory-key.store.ts'
import { createRedisKeyStore } from '../../src/keys/redis-key.store.ts'
import { loadConfig } from '../../src/config.ts'
import { build, testClock } from '../helpers/build.ts'
import { fleet, type FleetMember } from './fleet.ts'

const silent = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => silent } as unknown as FastifyBaseLogger
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const lifecycleTimes = { JWKS_MAX_AGE: '60', KEY_PUBLISH_MARGIN: '10', KEY_ROTATION_INTERVAL: '3600', ACCESS_TOKEN_TTL: '300', CLOCK_TOLERANCE: '30' }

async function states(member: FleetMember) {
  const all = await member.lifecycle.list()
  const count = (s: string) => all.filter((k) => k.state === s).length
  return { current: count('current'), next: count('next'), retired: count('retired'), revoked: count('revoked'), all }
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now()
  while (!(await predicate())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
  return performance.now() - start
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
  const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: old.alg, kid: old.kid }).setIssuedAt(iat).setExpirationTime(iat + 300).sign(old.privateKey)
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
  t.notOk((await a.lifecycle.list()).some((k) => k.kid === old.kid), 'and is removed from the store')
  await t.rejects(b.keys.verificationKey({ alg: old.alg, kid: old.kid }), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
})

t.test('a rotation or revocation reaches another instance within 1 s (pub/sub)', async (t) => {
  const { members } = await fleet(t, 2)
  const [a, b] = members as [FleetMember, FleetMember]
  const rotated = await a.lifecycle.rotate({ force: true })
  const rotationMs = await waitFor('b to sign with the new key', () => b.keys.signingKey().kid === rotated.current, 1000)
  t.ok(b.keys.jwks().body.keys.some((k) => k.kid === rotated.next), 'the new next key is in b\'s JWKS')
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
  t.equal(members[0]!.keys.signingKey().kid, first, 'no rotation while the dead holder\'s lock lives')
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

t.test('when Redis is down at start the service still starts, reports not ready and loads keys once Redis returns', async (t) => {
  const { createServer, connect } = await import('node:net')
  let up = false
  const sockets = new Set<import('node:net').Socket>()
  // A switchable TCP path to the real Redis: closed connections while "down".
  const proxy = createServer((socket) => {
    if (!up) return socket.destroy()
    const upstream = connect(6379, '127.0.0.1')
    sockets.add(socket).add(upstream)
    socket.pipe(upstream).pipe(socket)
    const drop = () => {
      socket.destroy()
      upstream.destroy()
    }
    socket.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  const port = (proxy.address() as import('node:net').AddressInfo).port
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    proxy.close()
  })
  const started = performance.now()
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${port}/0` }, { store: 'memory' })
  t.ok(performance.now() - started < 5000, 'buildApp does not hang')
  t.equal(app.keys.loaded, false)
  const ready = await app.publicApp.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', checks: { keys: false } })
  const jwks = await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(jwks.statusCode, 503)
  t.equal(jwks.json().error, 'temporarily_unavailable')
  t.throws(() => app.keys.signingKey(), { code: 'ERR_KEYS_NOT_LOADED' })

  up = true
  const ms = await waitFor('keys to load', () => app.keys.loaded, 8000)
  t.comment(`keys loaded ${ms.toFixed(0)} ms after Redis came back`)
  await waitFor('readiness', async () => (await app.publicApp.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 8000)
  t.equal((await app.publicApp.inject({ method: 'GET', url: '/.well-known/jwks.json' })).statusCode, 200)
})

t.test('a KEY_ENCRYPTION_KEY that cannot open the stored keys stops start-up with a clear error', async (t) => {
  const { config } = await fleet(t, 1)
  const wrong = { ...config, KEY_ENCRYPTION_KEY: randomBytes(32) }
  const redis = new (await import('ioredis')).Redis(testRedisUrl)
  t.teardown(() => redis.disconnect())
  const { buildApp } = await import('../../src/app.ts')
  await t.rejects(buildApp(Object.freeze(wrong), { redis }), { code: 'ERR_KEY_DECRYPTION' })
})

for (const alg of ['EdDSA', 'RS256'] as const) {
  t.test(`${alg} keys are published and verify`, async (t) => {
    const app = await build(t, { SIGNING_ALG: alg }, { store: 'memory' })
    const { kid, privateKey } = app.keys.signingKey()
    const jwt = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg, kid }).setExpirationTime('1m').sign(privateKey)
    const body = app.keys.jwks().body
    t.ok(body.keys.every((k) => k.alg === alg && !('d' in k) && !('p' in k)))
    if (alg === 'RS256') t.ok(Buffer.from(body.keys[0]!.n!, 'base64url').length * 8 >= 3072, 'RSA keys have ≥ 3072-bit moduli (128-bit strength)')
    await jwtVerify(jwt, createLocalJWKSet(body), { algorithms: [alg] })
  })
}

t.test('private keys are decrypted at load, not per signing call', async (t) => {
  const clock = testClock()
  const config = loadConfig({ LOG_LEVEL: 'silent' })
  const store = createMemoryKeyStore({ clock })
  let lists = 0
  const counting = { ...store, list: async () => { lists++; return store.list() } }
  const manager: KeyLifecycle = createKeyManager({ config, store: counting, clock, log: silent, background: false })
  t.teardown(() => manager.close())
  await manager.init()
  const loadsAfterInit = lists
  const a = manager.signingKey()
  for (let i = 0; i < 100; i++) t.equal(manager.signingKey(), a)
  t.equal(lists, loadsAfterInit, 'signing touches no store')
  t.equal(a.privateKey.extractable, false, 'the in-memory private key is not extractable')
})
