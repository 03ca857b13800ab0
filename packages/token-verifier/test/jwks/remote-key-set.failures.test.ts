// The remote key set when the JWKS endpoint fails: unavailable, stale-if-error, timeouts, redirects, non-JWKS documents, bad options.
import t from 'tap'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { generateSigningKey, startJwksServer, unusedUrl } from '../helpers/jwks-server.ts'
import { rejectsWithCode, setup, start } from '../helpers/remote-key-set-setup.ts'

t.test('with nothing cached and the server down, lookups fail with ERR_JWKS_UNAVAILABLE and recover once it is back', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000 })
  server.down = true
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE')
  t.equal(server.requests, 1)
  t.equal(keySet.status.loaded, false)
  t.type(keySet.status.lastError, 'string')
  clock.now = start + 1000
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE', 'still unavailable within the retry gap')
  t.equal(server.requests, 1, 'no retry within the cooldown after a failure')
  server.down = false
  clock.now = start + 5000
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }), 'recovers after the cooldown')
  t.equal(server.requests, 2)
  t.equal(keySet.status.lastError, null)
})

t.test('a refused connection with nothing cached is ERR_JWKS_UNAVAILABLE, and refresh() rejects the same way', async (t) => {
  const keySet = createRemoteKeySet({ url: await unusedUrl(), algorithms: ['ES256'] })
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'a' }), 'ERR_JWKS_UNAVAILABLE')
  await rejectsWithCode(t, keySet.refresh(), 'ERR_JWKS_UNAVAILABLE')
  t.match(keySet.status.lastError, /ECONNREFUSED|fetch failed/)
})

t.test('a failed refetch keeps serving the last good set within staleIfErrorMs, then fails closed', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { staleIfErrorMs: 60_000, cooldownMs: 5000 })
  server.cacheControl = 'max-age=10'
  const good = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  server.failStatus = 500
  clock.now = start + 10_000
  t.equal(await keySet.getKey({ alg: 'ES256', kid: key.kid }), good, 'stale key served while the refetch fails')
  t.equal(server.requests, 2)
  t.match(keySet.status.lastError, /HTTP 500/)
  t.equal(keySet.status.loaded, true)
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'unknown' }), 'ERR_JWKS_NO_MATCHING_KEY', 'an unknown kid is still just invalid')
  clock.now = start + 10_000 + 59_999
  t.equal(await keySet.getKey({ alg: 'ES256', kid: key.kid }), good, 'still within the stale-if-error window')
  clock.now = start + 10_000 + 60_000
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE', 'past the window: never accept')
  t.equal(keySet.status.loaded, false)
  server.failStatus = undefined
  clock.now += 5000
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }), 'recovers once the server is back')
})

t.test('a slow server is cut off by timeoutMs', async (t) => {
  const key = await generateSigningKey()
  const { server, keySet } = await setup(t, [key], { timeoutMs: 100 })
  server.delayMs = 2000
  const began = performance.now()
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE')
  const took = performance.now() - began
  t.ok(took < 1500, `gave up after ${Math.round(took)} ms`)
  t.match(keySet.status.lastError, /timed out after 100 ms/)
})

t.test('a redirect is refused: the JWKS URL is fixed', async (t) => {
  const key = await generateSigningKey()
  const other = await startJwksServer([key.publicJwk])
  t.teardown(() => other.close())
  const { server, keySet } = await setup(t, [key])
  server.redirectTo = other.url
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE')
  t.equal(other.requests, 0)
})

t.test('documents that are not a JWKS are fetch failures and keep the last good set', async (t) => {
  const key = await generateSigningKey()
  for (const body of ['not json', '[]', '{"keys":{}}', 'null', JSON.stringify({ nokeys: [] })]) {
    const { server, keySet } = await setup(t, [key])
    server.body = body
    await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: key.kid }), 'ERR_JWKS_UNAVAILABLE', `body ${body} is unavailable`)
  }
  const { server, clock, keySet } = await setup(t, [key])
  server.cacheControl = 'max-age=1'
  const good = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  server.body = 'garbage'
  clock.now = start + 5000 // stale, and past the retry gap
  t.equal(await keySet.getKey({ alg: 'ES256', kid: key.kid }), good)
  t.match(keySet.status.lastError, /not JSON/)
})

t.test('bad options are rejected when the key set is created', async (t) => {
  for (const algorithms of [[], ['none'], ['HS256'], ['es256']]) {
    t.throws(() => createRemoteKeySet({ url: 'http://127.0.0.1/jwks', algorithms }), TypeError, `algorithms ${JSON.stringify(algorithms)}`)
  }
  t.throws(() => createRemoteKeySet({ url: 'file:///etc/passwd', algorithms: ['ES256'] }), TypeError)
  t.throws(() => createRemoteKeySet({ url: 'not a url', algorithms: ['ES256'] }))
})
