// The verified-token cache's admission: by default a token is stored from its second use on, so
// tokens seen once neither take a slot nor evict the tokens in use; 'first-use' stores at once.
import t from 'tap'
import { createAccessTokenVerifier } from '../../src/jwt/verify-access-token.ts'
import { generateSigningKey } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'
import { keyA, outcome, setup, startSec } from '../helpers/token-cache-setup.ts'

const mint = (sub: string) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub } })

t.test('by default a token is verified in full on its first two uses and served from the cache from the third on', async (t) => {
  const { keySet } = await setup(t)
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet, now: () => startSec * 1000 })
  const token = await mint('user-1')
  const first = await verifier.verify(token)
  t.same({ ...verifier.cache! }, { size: 0, hits: 0, verifications: 1, evictions: 0 }, 'first use: verified, not stored')
  const second = await verifier.verify(token)
  t.same({ ...verifier.cache! }, { size: 1, hits: 0, verifications: 2, evictions: 0 }, 'second use: verified again, stored')
  t.same(second, first, 'the same answer both times')
  t.equal(await verifier.verify(token), second, 'third use: the stored result')
  t.equal(verifier.cached!(token), second)
  t.equal(verifier.cache!.hits, 2)
  t.equal(verifier.cache!.verifications, 2)
})

t.test("'first-use' stores a token on its first verification", async (t) => {
  const { verifier } = await setup(t, { admission: 'first-use' })
  const token = await mint('user-1')
  const result = await verifier.verify(token)
  t.equal(verifier.cache!.size, 1)
  t.equal(await verifier.verify(token), result)
  t.equal(verifier.cache!.verifications, 1)
})

t.test('concurrent first uses of a new token: the first verifies alone, the others share one verification, which is stored', async (t) => {
  const { counted, verifier } = await setup(t, { admission: 'second-use' })
  const token = await mint('user-1')
  const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)))
  t.equal(verifier.cache!.verifications, 2, 'two full verifications for 50 callers')
  t.equal(counted.getKeyCalls, 2)
  t.ok(
    results.every((r) => r.sub === 'user-1'),
    'every caller accepted',
  )
  t.ok(
    results.slice(1).every((r) => r === results[1]),
    'the 49 that joined got the one shared result',
  )
  t.equal(verifier.cache!.size, 1)
  t.equal(await verifier.verify(token), results[1], 'a hit from then on')
})

t.test('tokens used once never evict a token in use', async (t) => {
  const { verifier } = await setup(t, { admission: 'second-use', maxEntries: 3 })
  const hot = await mint('hot')
  await verifier.verify(hot)
  await verifier.verify(hot)
  t.equal(verifier.cache!.size, 1)
  for (let i = 0; i < 30; i += 1) {
    t.equal(await outcome(verifier, await mint(`once-${i}`)), `accepted once-${i}`)
    t.equal(await outcome(verifier, hot), 'accepted hot')
  }
  t.equal(verifier.cache!.size, 1, 'none of the 30 one-off tokens was stored')
  t.equal(verifier.cache!.evictions, 0)
  t.equal(verifier.cache!.hits, 30, 'every use of the hot token was a hit')
  t.equal(verifier.cache!.verifications, 32)
})

t.test('a refused token is never stored, however often it comes', async (t) => {
  const { verifier } = await setup(t, { admission: 'second-use' })
  const forged = await mintAccessToken(await generateSigningKey('ES256', 'a'), { nowSec: startSec })
  for (let i = 0; i < 4; i += 1) t.equal(await outcome(verifier, forged), 'ERR_TOKEN_INVALID')
  t.equal(verifier.cache!.size, 0)
  t.equal(verifier.cache!.verifications, 4, 'each one verified in full')
})

t.test('the doorkeeper forgets after maxEntries new tokens: a token seen before that is verified once more before it is stored', async (t) => {
  const { verifier } = await setup(t, { admission: 'second-use', maxEntries: 2 })
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(mint))
  for (const token of [a!, b!]) await verifier.verify(token)
  await verifier.verify(a!)
  t.equal(verifier.cache!.size, 1, 'a, seen twice, is stored')
  await verifier.verify(c!) // the third new token: the doorkeeper starts empty again, holding only c
  await verifier.verify(b!)
  t.equal(verifier.cache!.size, 1, 'b was forgotten: its second use counts as a first')
  await verifier.verify(b!)
  t.equal(verifier.cache!.size, 2, 'and its next use stores it')
  t.equal(await verifier.verify(a!), verifier.cached!(a!), 'a was served from the cache throughout')
  t.equal(verifier.cache!.verifications, 6)
})

t.test('an unknown admission is refused when the verifier is created', async (t) => {
  const { keySet } = await setup(t)
  for (const admission of ['third-use', '', 'FIRST-USE']) {
    t.throws(() => createAccessTokenVerifier({ issuer, audience, keySet, cache: { admission: admission as 'first-use' } }), TypeError, `admission ${JSON.stringify(admission)}`)
  }
  t.doesNotThrow(() => createAccessTokenVerifier({ issuer, audience, keySet, cache: { maxEntries: 5 } }), 'admission may be left out')
})
