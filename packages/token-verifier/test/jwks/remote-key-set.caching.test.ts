// The remote key set's cache: freshness, revalidation, refetches on an unknown kid, shared fetches, peekKey, version.
import t from 'tap'
import { SignJWT, jwtVerify } from 'jose'
import type { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey } from '../helpers/jwks-server.ts'
import { rejectsWithCode, setup, start } from '../helpers/remote-key-set-setup.ts'

t.test('the first lookup fetches the set once and later lookups use the cache', async (t) => {
  const key = await generateSigningKey()
  const { server, keySet } = await setup(t, [key])
  t.same(keySet.status, { loaded: false, keyCount: 0, fetchedAt: null, lastError: null })
  const first = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  const second = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(first, second, 'the same imported CryptoKey is returned (memoised, not imported per call)')
  t.equal(first.type, 'public')
  t.equal(server.requests, 1)
  t.same(keySet.status, { loaded: true, keyCount: 1, fetchedAt: start, lastError: null })
})

t.test('a key from the set verifies a token through jose as a key resolver', async (t) => {
  const key = await generateSigningKey()
  const { keySet } = await setup(t, [key])
  const token = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey)
  const { payload } = await jwtVerify(token, keySet.getKey, { algorithms: ['ES256'] })
  t.equal(payload.sub, 'u1')
})

t.test('Cache-Control max-age sets the freshness and a stale set is revalidated with If-None-Match', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key])
  server.cacheControl = 'public, max-age=60'
  server.etag = '"v1"'
  const first = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 59_999
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 1, 'still fresh just before max-age')
  clock.now = start + 60_000
  const again = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 2, 'refetched once max-age has passed')
  t.same(server.ifNoneMatch, [undefined, '"v1"'], 'the second fetch carries the ETag')
  t.equal(again, first, 'a 304 keeps the same keys')
  t.equal(keySet.status.fetchedAt, start + 60_000, 'a 304 renews freshness')
  clock.now = start + 119_999
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 2, 'fresh again for max-age after the 304')
})

t.test('a server max-age is capped by maxMaxAgeMs and a missing one falls back to defaultMaxAgeMs', async (t) => {
  const key = await generateSigningKey()
  const capped = await setup(t, [key], { maxMaxAgeMs: 10_000 })
  capped.server.cacheControl = 'max-age=31536000'
  await capped.keySet.getKey({ alg: 'ES256', kid: key.kid })
  capped.clock.now = start + 10_000
  await capped.keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(capped.server.requests, 2, 'a year of max-age is capped at 10 s')

  const fallback = await setup(t, [key], { defaultMaxAgeMs: 20_000 })
  await fallback.keySet.getKey({ alg: 'ES256', kid: key.kid })
  fallback.clock.now = start + 19_999
  await fallback.keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(fallback.server.requests, 1)
  fallback.clock.now = start + 20_000
  await fallback.keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(fallback.server.requests, 2, 'no Cache-Control: the default freshness applies')
})

t.test('no-cache means revalidate, but never more than once per cooldown', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000 })
  server.cacheControl = 'no-cache'
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 1000
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 1)
  clock.now = start + 5000
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 2)
})

t.test('an unknown kid triggers an immediate refetch that finds a rotated-in key', async (t) => {
  const oldKey = await generateSigningKey()
  const newKey = await generateSigningKey()
  const { server, keySet } = await setup(t, [oldKey])
  server.cacheControl = 'max-age=3600'
  await keySet.getKey({ alg: 'ES256', kid: oldKey.kid })
  server.body = { keys: [oldKey.publicJwk, newKey.publicJwk] }
  const found = await keySet.getKey({ alg: 'ES256', kid: newKey.kid })
  t.equal(found.type, 'public')
  t.equal(server.requests, 2)
  t.equal(keySet.status.keyCount, 2)
})

t.test('concurrent misses share one fetch and misses within the backoff fetch nothing', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000 })
  server.cacheControl = 'max-age=3600'
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(server.requests, 1)
  server.delayMs = 50
  const misses = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => keySet.getKey({ alg: 'ES256', kid: `nope-${i}` })))
  t.equal(server.requests, 2, '20 concurrent misses caused exactly one fetch')
  t.ok(misses.every((m) => m.status === 'rejected' && (m.reason as TokenVerifierError).code === 'ERR_JWKS_NO_MATCHING_KEY'))
  clock.now = start + 99
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'nope-again' }), 'ERR_JWKS_NO_MATCHING_KEY')
  t.equal(server.requests, 2, 'a miss inside the first backoff (100 ms) does not fetch')
  clock.now = start + 100
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: 'nope-later' }), 'ERR_JWKS_NO_MATCHING_KEY')
  t.equal(server.requests, 3, 'after it a miss fetches again')
  t.equal(keySet.status.loaded, true, 'the known key is still cached')
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }))
})

t.test('random kids back off exponentially up to the cooldown: a flood costs a bounded number of fetches', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key], { cooldownMs: 5000, missBackoffMs: 100 })
  server.cacheControl = 'max-age=3600'
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  const fetchedAt: number[] = []
  const codes = new Set<string>()
  // One random kid every 10 ms for a minute: 6000 misses.
  for (let ms = 0; ms < 60_000; ms += 10) {
    clock.now = start + ms
    const before = server.requests
    const code = await keySet.getKey({ alg: 'ES256', kid: `random-${ms}` }).then(
      () => 'a key',
      (error: TokenVerifierError) => error.code,
    )
    if (code !== 'ERR_JWKS_NO_MATCHING_KEY') codes.add(code)
    if (server.requests > before) fetchedAt.push(ms)
  }
  t.same([...codes], [], 'every random kid is refused as ERR_JWKS_NO_MATCHING_KEY')
  const gaps = fetchedAt.slice(1).map((at, i) => at - fetchedAt[i]!)
  t.same(gaps.slice(0, 7), [100, 200, 400, 800, 1600, 3200, 5000], 'the gap doubles from 100 ms to the 5 s cooldown')
  t.ok(
    gaps.slice(6).every((gap) => gap === 5000),
    'then one fetch per cooldown',
  )
  t.ok(fetchedAt.length <= 7 + 60_000 / 5000, `6000 random kids in a minute: ${fetchedAt.length} fetches`)
  t.ok(await keySet.getKey({ alg: 'ES256', kid: key.kid }), 'the real key keeps verifying')
})

t.test('rotations faster than the cooldown are each followed at once: a found kid resets the backoff', async (t) => {
  const keys = await Promise.all(Array.from({ length: 6 }, () => generateSigningKey()))
  const { server, clock, keySet } = await setup(t, [keys[0]!], { cooldownMs: 5000 })
  server.cacheControl = 'max-age=3600'
  await keySet.getKey({ alg: 'ES256', kid: keys[0]!.kid })
  for (let i = 1; i < keys.length; i++) {
    clock.now = start + i * 400
    server.body = { keys: keys.slice(Math.max(0, i - 1), i + 1).map((k) => k.publicJwk) }
    const found = await keySet.getKey({ alg: 'ES256', kid: keys[i]!.kid })
    t.equal(found.type, 'public', `rotation ${i} (${i * 400} ms) found at once`)
  }
  t.equal(server.requests, keys.length, 'one fetch per rotation')
})

t.test('concurrent first lookups share the initial fetch', async (t) => {
  const key = await generateSigningKey()
  const { server, keySet } = await setup(t, [key])
  server.delayMs = 50
  const keys = await Promise.all(Array.from({ length: 10 }, () => keySet.getKey({ alg: 'ES256', kid: key.kid })))
  t.equal(server.requests, 1)
  t.ok(keys.every((k: unknown) => k === keys[0]))
})

t.test('refresh() fetches at once and keys already imported are reused across documents', async (t) => {
  const a = await generateSigningKey()
  const b = await generateSigningKey()
  const { server, keySet } = await setup(t, [a])
  server.cacheControl = 'max-age=3600'
  await keySet.refresh()
  t.equal(server.requests, 1)
  const first = await keySet.getKey({ alg: 'ES256', kid: a.kid })
  server.body = { keys: [a.publicJwk, b.publicJwk] }
  await keySet.refresh()
  t.equal(server.requests, 2)
  t.equal(await keySet.getKey({ alg: 'ES256', kid: a.kid }), first, 'the unchanged key is not re-imported')
  t.ok(await keySet.getKey({ alg: 'ES256', kid: b.kid }))
  t.equal(server.requests, 2)
  server.body = { keys: [b.publicJwk] }
  await keySet.refresh()
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid: a.kid }), 'ERR_JWKS_NO_MATCHING_KEY', 'a key removed from the set stops verifying')
})

t.test('peekKey answers from memory only: the key while fresh, null for an unknown key, undefined once stale', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key])
  server.cacheControl = 'max-age=60'
  t.equal(keySet.peekKey({ alg: 'ES256', kid: key.kid }), undefined, 'nothing fetched yet')
  t.equal(server.requests, 0, 'and peekKey did not fetch')
  const fetched = await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.equal(keySet.peekKey({ alg: 'ES256', kid: key.kid }), fetched, 'the same object getKey returned')
  t.equal(keySet.peekKey({ alg: 'ES256', kid: 'other' }), null)
  t.equal(keySet.peekKey({ alg: 'ES384', kid: key.kid }), null)
  t.equal(keySet.peekKey({ alg: 'none', kid: key.kid }), null)
  t.equal(keySet.peekKey({ alg: 'ES256', kid: 7 } as unknown as { kid: string }), null)
  clock.now = start + 60_000
  t.equal(keySet.peekKey({ alg: 'ES256', kid: key.kid }), undefined, 'stale: only getKey can tell')
  t.equal(server.requests, 1)
})

t.test('version changes when a key is added, removed or replaced, and not for an identical document or a 304', async (t) => {
  const a = await generateSigningKey('ES256', 'a')
  const b = await generateSigningKey('ES256', 'b')
  const { server, keySet } = await setup(t, [a])
  t.equal(keySet.version, 0)
  await keySet.refresh()
  t.equal(keySet.version, 1, 'first set')
  await keySet.refresh()
  t.equal(keySet.version, 1, 'identical document')
  server.etag = '"e"'
  await keySet.refresh()
  await keySet.refresh()
  t.equal(server.ifNoneMatch.at(-1), '"e"')
  t.equal(keySet.version, 1, '304')
  server.etag = undefined
  server.body = { keys: [a.publicJwk, b.publicJwk] }
  await keySet.refresh()
  t.equal(keySet.version, 2, 'key added')
  server.body = { keys: [b.publicJwk] }
  await keySet.refresh()
  t.equal(keySet.version, 3, 'key removed')
  const impostor = await generateSigningKey('ES256', 'b')
  server.body = { keys: [impostor.publicJwk] }
  await keySet.refresh()
  t.equal(keySet.version, 4, 'key replaced under the same kid')
})

t.test('onEvent reports every fetch with its outcome and every key served from the cache', async (t) => {
  const key = await generateSigningKey()
  const events: unknown[] = []
  const { server, clock, keySet } = await setup(t, [key], { onEvent: (event) => events.push(event), cooldownMs: 0 })
  server.cacheControl = 'max-age=60'
  server.etag = '"v1"'
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 60_000
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.same(events, [{ type: 'fetch', outcome: 'ok' }, { type: 'cache_hit' }, { type: 'fetch', outcome: 'not_modified' }], 'a fetch, a hit, then a 304 (a lookup that fetched is no hit)')
  events.length = 0
  server.failStatus = 503
  clock.now = start + 120_000
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  t.same(events, [{ type: 'fetch', outcome: 'error' }], 'a failed fetch is reported; the stale key still serves')
})
