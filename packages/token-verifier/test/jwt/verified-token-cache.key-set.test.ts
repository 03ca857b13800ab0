// The verified-token cache serves a token only while the uncached path would accept it: until exp, while its key stays in the key set.
import t from 'tap'
import { importJWK, type CryptoKey } from 'jose'
import { createAccessTokenVerifier, type KeyResolver } from '../../src/jwt/verify-access-token.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'
import { keyA, keyB, outcome, setup, startSec } from '../helpers/token-cache-setup.ts'

t.test('a cached token is served until exp plus the tolerance and refused as expired from then on, exactly like the uncached path', async (t) => {
  const { clock, verifier, uncached } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec, claims: { exp: startSec + 60 } })
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cache!.verifications, 1)
  // jose's rule: refused when exp <= now - tolerance (30 s), in whole seconds.
  for (const [offsetMs, expected] of [
    [60_000, 'accepted user-1'],
    [89_000, 'accepted user-1'],
    [89_999, 'accepted user-1'],
    [90_000, 'ERR_TOKEN_EXPIRED'],
    [3_600_000, 'ERR_TOKEN_EXPIRED'],
  ] as const) {
    clock.ms = startSec * 1000 + offsetMs
    t.equal(await outcome(uncached, token), expected, `uncached at +${offsetMs} ms: ${expected}`)
    t.equal(await outcome(verifier, token), expected, `cached at +${offsetMs} ms: ${expected}`)
  }
  t.equal(verifier.cache!.verifications, 3, 'served from the cache until expiry; each refusal verified in full')
  t.equal(verifier.cache!.size, 0, 'the expired entry is gone')
})

t.test('when a key leaves the JWKS its entries are evicted and its tokens refused', async (t) => {
  const { server, keySet, verifier } = await setup(t)
  const signedByA = await Promise.all([1, 2, 3].map((i) => mintAccessToken(keyA, { nowSec: startSec, claims: { sub: `a-${i}` } })))
  const signedByB = await mintAccessToken(keyB, { nowSec: startSec, claims: { sub: 'b-1' } })
  for (const token of [...signedByA, signedByB]) await verifier.verify(token)
  t.equal(verifier.cache!.size, 4)
  server.body = { keys: [keyB.publicJwk] }
  await keySet.refresh()
  t.equal(await outcome(verifier, signedByB), 'accepted b-1', 'a token of a key that stayed is still served')
  t.equal(verifier.cache!.size, 1, "key a's three entries were evicted as soon as the changed set was seen")
  t.equal(verifier.cache!.evictions, 3)
  for (const token of signedByA) t.equal(await outcome(verifier, token), 'ERR_JWKS_NO_MATCHING_KEY')
})

t.test('a cached token whose key was revoked is refused once the key set is refetched, as without the cache', async (t) => {
  const { server, clock, verifier, uncached } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  server.body = { keys: [keyB.publicJwk] } // emergency revocation of a: gone from the JWKS
  t.equal(await outcome(verifier, token), 'accepted user-1', 'within max-age the old set is what both paths know')
  t.equal(await outcome(uncached, token), 'accepted user-1')
  clock.ms += 60_000 // the set is stale now: the next use refetches it
  t.equal(await outcome(verifier, token), 'ERR_JWKS_NO_MATCHING_KEY', 'refused by the cached verifier')
  t.equal(await outcome(uncached, token), 'ERR_JWKS_NO_MATCHING_KEY', 'and by the uncached one')
  t.equal(verifier.cache!.size, 0)
})

t.test('a key replaced under the same kid stops serving the tokens of the old one', async (t) => {
  const { server, keySet, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  const impostor = await generateSigningKey('ES256', 'a')
  server.body = { keys: [impostor.publicJwk, keyB.publicJwk] }
  await keySet.refresh()
  t.equal(await outcome(verifier, token), 'ERR_TOKEN_INVALID', 'the signature no longer verifies with the key now named a')
})

t.test('a stale key set is revalidated on a hit and the entry keeps serving when the key is unchanged', async (t) => {
  const { server, clock, counted, verifier } = await setup(t)
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  t.equal(server.requests, 1)
  clock.ms += 61_000
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(server.requests, 2, 'the hit refetched the stale set')
  t.equal(verifier.cache!.verifications, 1, 'no re-verification: the key is the same object')
  t.equal(counted.getKeyCalls, 2)
})

t.test('with the key set unreachable a cached token serves only within stale-if-error, then the answer is unavailable', async (t) => {
  const { server, clock, verifier, uncached } = await setup(t, { keySetOptions: { staleIfErrorMs: 120_000 } })
  const token = await mintAccessToken(keyA, { nowSec: startSec, claims: { exp: startSec + 3600 } })
  await verifier.verify(token)
  server.down = true
  clock.ms += 100_000 // stale, inside stale-if-error (60 s fresh + 120 s)
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(await outcome(uncached, token), 'accepted user-1')
  clock.ms = startSec * 1000 + 180_000
  t.equal(await outcome(verifier, token), 'ERR_JWKS_UNAVAILABLE', 'never served past the window')
  t.equal(await outcome(uncached, token), 'ERR_JWKS_UNAVAILABLE')
})

t.test('with a plain key resolver a hit asks it for the key and a revoked key refuses the token', async (t) => {
  const { keySet } = await setup(t)
  const key = await keySet.getKey({ alg: 'ES256', kid: 'a' })
  const revoked = new Set<string>()
  let calls = 0
  const resolver: KeyResolver = {
    async getKey(header) {
      calls += 1
      if (revoked.has(header.kid!)) throw new TokenVerifierError('ERR_JWKS_NO_MATCHING_KEY')
      return key
    },
  }
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet: resolver, now: () => startSec * 1000, cache: { admission: 'first-use' } })
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  await verifier.verify(token)
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cache!.hits, 1)
  t.equal(verifier.cache!.verifications, 1)
  t.equal(calls, 2, 'the hit asked the resolver')
  revoked.add('a')
  t.equal(await outcome(verifier, token), 'ERR_JWKS_NO_MATCHING_KEY')
  t.equal(verifier.cache!.size, 0)
})

t.test('a resolver that returns a new key object every time gets correct answers, just no hits', async (t) => {
  const resolver: KeyResolver = { getKey: async () => (await importJWK(keyA.publicJwk, 'ES256')) as CryptoKey }
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet: resolver, now: () => startSec * 1000 })
  const token = await mintAccessToken(keyA, { nowSec: startSec })
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(await outcome(verifier, token), 'accepted user-1')
  t.equal(verifier.cache!.hits, 0)
  t.equal(verifier.cache!.verifications, 2)
})
