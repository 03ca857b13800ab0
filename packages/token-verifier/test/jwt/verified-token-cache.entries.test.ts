// The verified-token cache's entries: single-flight misses, the bound and LRU eviction, exact matches, frozen results, cached(), on/off.
import t from 'tap'
import { createAccessTokenVerifier } from '../../src/jwt/verify-access-token.ts'
import { generateSigningKey } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'
import { keyA, keyB, outcome, setup, startSec } from '../helpers/token-cache-setup.ts'

t.test('concurrent requests carrying the same new token verify it once', async (t) => {
  const { counted, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)))
  t.equal(verifier.cache!.verifications, 1, 'one full verification')
  t.equal(counted.getKeyCalls, 1, 'one key lookup')
  t.ok(
    results.every((r) => r === results[0]),
    'all 50 callers got the same result',
  )
  await verifier.verify(token)
  t.equal(verifier.cache!.hits, 1)
  t.equal(counted.getKeyCalls, 1, 'a hit on a fresh key set needs no getKey call')
})

t.test('concurrent requests carrying the same bad token verify it once, all are refused, and nothing is cached', async (t) => {
  const { verifier } = await setup(t)
  const forged = await mintAccessToken(await generateSigningKey('ES256', 'a'), { nowSec: startSec })
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => outcome(verifier, forged)))
  t.ok(
    outcomes.every((o) => o === 'ERR_TOKEN_INVALID'),
    'every caller refused',
  )
  t.equal(verifier.cache!.verifications, 1)
  t.equal(verifier.cache!.size, 0)
  t.equal(await outcome(verifier, forged), 'ERR_TOKEN_INVALID')
  t.equal(verifier.cache!.verifications, 2, 'a refusal is not remembered: the next call verifies again')
})

t.test('the number of entries never exceeds maxEntries and the least recently used goes first', async (t) => {
  const { verifier } = await setup(t, { maxEntries: 3 })
  const tokens = await Promise.all(Array.from({ length: 5 }, (_, i) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `user-${i}` } })))
  for (const token of tokens.slice(0, 3)) await verifier.verify(token)
  t.equal(verifier.cache!.size, 3)
  await verifier.verify(tokens[0]!) // token 0 is now the most recently used
  t.equal(verifier.cache!.hits, 1)
  await verifier.verify(tokens[3]!)
  t.equal(verifier.cache!.size, 3, 'bounded')
  t.equal(verifier.cache!.evictions, 1)
  const before = verifier.cache!.verifications
  await verifier.verify(tokens[0]!)
  t.equal(verifier.cache!.verifications, before, 'token 0 survived: it was used recently')
  await verifier.verify(tokens[1]!)
  t.equal(verifier.cache!.verifications, before + 1, 'token 1, the least recently used, had been evicted')
  for (const token of tokens) await verifier.verify(token)
  t.ok(verifier.cache!.size <= 3, 'still bounded after more traffic')
})

t.test('only the exact token string hits: a changed signature is verified and refused', async (t) => {
  const { verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  const [h, p, s] = token.split('.') as [string, string, string]
  const other = s.startsWith('A') ? 'B' : 'A'
  // The map is indexed by the last characters of the signature: these share them with the cached token.
  const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' })).toString('base64url')
  t.equal(await outcome(verifier, `${h}.${otherPayload}.${s}`), 'ERR_TOKEN_INVALID', 'another payload with the cached signature')
  t.equal(await outcome(verifier, `${h}.${p}.${other}${s.slice(1)}`), 'ERR_TOKEN_INVALID', 'the signature changed in its first character')
  t.equal(verifier.cached!(`${h}.${otherPayload}.${s}`), undefined)
  t.equal(await outcome(verifier, `${token}x`), 'ERR_TOKEN_INVALID')
  const hits = verifier.cache!.hits
  t.equal(await outcome(verifier, token), 'accepted user-1', 'the genuine token is still cached')
  t.equal(verifier.cache!.hits, hits + 1)
})

t.test('under churn the entries kept are always the most recent ones', async (t) => {
  const { verifier } = await setup(t, { maxEntries: 5 })
  const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `user-${i}` } })))
  for (const token of tokens) await verifier.verify(token)
  t.equal(verifier.cache!.size, 5)
  t.equal(verifier.cache!.evictions, 55)
  for (const token of tokens.slice(-5)) t.ok(verifier.cached!(token), 'one of the five newest is cached')
  for (const token of tokens.slice(0, 55)) t.equal(verifier.cached!(token), undefined)
})

t.test('a token used all the time survives churn far beyond maxEntries', async (t) => {
  const { verifier } = await setup(t, { maxEntries: 10 })
  const hot = await mintAccessToken(keyA, { nowSec: startSec, claims: { sub: 'hot' } })
  await verifier.verify(hot)
  for (let i = 0; i < 40; i += 1) {
    await verifier.verify(await mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `cold-${i}` } }))
    await verifier.verify(hot)
    t.ok(verifier.cache!.size <= 10)
  }
  t.equal(verifier.cache!.hits, 40, 'every use of the hot token was a hit')
  t.equal(verifier.cache!.evictions, 31)
})

t.test('results are frozen: one request cannot change what the next one is served', async (t) => {
  const { verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  const result = await verifier.verify(token)
  t.throws(() => {
    ;(result.scope as string[]).push('admin')
  }, TypeError)
  t.throws(() => {
    ;(result as { sub: string }).sub = 'someone-else'
  }, TypeError)
  t.throws(() => {
    ;(result.claims as { roles: string[] }).roles.push('admin')
  }, TypeError)
  t.same((await verifier.verify(token)).scope, ['todos:read', 'todos:write'])
})

t.test('cached() serves synchronously only what needs no I/O: a fresh key set, an unexpired token, the same key', async (t) => {
  const { server, clock, keySet, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec, claims: { exp: startSec + 3600 } })
  t.equal(verifier.cached!(token), undefined, 'never verified')
  const result = await verifier.verify(token)
  t.equal(verifier.cached!(token), result, 'the very same result, no promise')
  t.equal(verifier.cache!.hits, 1)
  t.equal(verifier.cached!(`${token}.`), undefined)
  t.equal(verifier.cached!(42 as unknown as string), undefined)
  clock.ms += 60_000
  t.equal(verifier.cached!(token), undefined, 'stale key set: only verify() (which refetches) may answer')
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cached!(token), result, 'refetched: served again')
  server.body = { keys: [keyB.publicJwk] }
  await keySet.refresh()
  t.equal(verifier.cached!(token), undefined, 'its key left the set')
  t.equal(verifier.cache!.size, 0)

  const plain = createAccessTokenVerifier({ issuer, audience, keySet: { getKey: (h) => keySet.getKey(h) }, now: () => clock.ms, cache: { admission: 'first-use' } })
  const other = await mintAccessToken(keyB, { nowSec: startSec, claims: { exp: startSec + 3600 } })
  await plain.verify(other)
  t.equal(plain.cached!(other), undefined, 'a resolver without peekKey can only be asked asynchronously')
  t.equal(await outcome(plain, other), 'accepted user-1')
  t.equal(plain.cache!.hits, 1)
})

t.test('the cache is on by default and cache: false turns it off', async (t) => {
  const { keySet } = await setup(t)
  const byDefault = createAccessTokenVerifier({ issuer, audience, keySet, now: () => startSec * 1000 })
  t.same(byDefault.cache && { size: byDefault.cache.size, hits: byDefault.cache.hits }, { size: 0, hits: 0 })
  const off = createAccessTokenVerifier({ issuer, audience, keySet, cache: false })
  t.equal(off.cache, null)
  for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => createAccessTokenVerifier({ issuer, audience, keySet, cache: { maxEntries } }), TypeError, `maxEntries ${maxEntries}`)
  }
})
