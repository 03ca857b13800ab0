import { inspect } from 'node:util'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import { testRedisUrl } from '@todo-auth/testkit'
import { createKeyManager, type KeyLifecycle } from '../../src/keys/key-manager.ts'
import { createMemoryKeyStore } from '../../src/keys/memory-key.store.ts'
import { loadConfig } from '../../src/config.ts'
import { build, testClock } from '../helpers/build.ts'
import { fleet, silent, waitFor } from './fleet.ts'

// One instance's key manager: start-up with Redis away or a wrong KEK, the algorithms, and when
// private keys are decrypted. The key set over time and across a fleet: key-schedule.test.ts.

t.test('when Redis is down at start the service still starts, reports not ready and loads keys once Redis returns', async (t) => {
  const { createServer, connect } = await import('node:net')
  let up = false
  const sockets = new Set<import('node:net').Socket>()
  // A switchable TCP path to the real Redis: closed connections while "down".
  const proxy = createServer((socket) => {
    if (!up) {
      socket.destroy()
      return
    }
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
  const counting = {
    ...store,
    list: async () => {
      lists++
      return store.list()
    },
  }
  const manager: KeyLifecycle = createKeyManager({ config, store: counting, clock, log: silent, background: false })
  t.teardown(() => manager.close())
  await manager.init()
  const loadsAfterInit = lists
  const a = manager.signingKey()
  for (let i = 0; i < 100; i++) t.equal(manager.signingKey(), a)
  t.equal(lists, loadsAfterInit, 'signing touches no store')
  // A node:crypto KeyObject (what the signer uses): nothing of the private key is in what a log or a
  // JSON body would show of it, even by accident.
  const d = String((a.privateKey.export({ format: 'jwk' }) as { d: string }).d)
  t.equal(a.privateKey.type, 'private')
  t.notMatch(JSON.stringify(a), d, 'JSON.stringify shows no key material')
  t.notMatch(inspect(a, { depth: 5, showHidden: true }), d, 'util.inspect shows no key material')
})
