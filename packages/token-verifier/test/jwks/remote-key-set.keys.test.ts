// Which keys the remote key set holds and hands out: alg, kty, use, private members, kid lookups.
import t from 'tap'
import { exportJWK, generateKeyPair } from 'jose'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { generateSigningKey } from '../helpers/jwks-server.ts'
import { rejectsWithCode, setup, start } from '../helpers/remote-key-set-setup.ts'

t.test('keys whose alg is not allowed, whose kty does not fit the alg, or that are not for signing are ignored', async (t) => {
  const good = await generateSigningKey('ES256', 'good')
  const rsa = await generateSigningKey('RS256', 'rsa')
  const ed = await generateSigningKey('EdDSA', 'ed')
  const { keySet } = await setup(t, [good, rsa, ed])
  const server = (await setup(t, [])).server
  server.body = {
    keys: [
      good.publicJwk,
      rsa.publicJwk,
      ed.publicJwk,
      { ...good.publicJwk, kid: 'ec-as-rs256', alg: 'RS256' },
      { ...good.publicJwk, kid: 'ec-as-es384', alg: 'ES384' },
      { ...good.publicJwk, kid: 'enc', use: 'enc' },
      { ...good.publicJwk, kid: 'ops', key_ops: ['encrypt'] },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
      { ...good.publicJwk, kid: 42 },
      'not an object',
      null,
    ],
  }
  const filtered = createRemoteKeySet({ url: server.url, algorithms: ['ES256', 'ES384', 'RS256'] })
  t.ok(await filtered.getKey({ alg: 'ES256', kid: 'good' }))
  t.ok(await filtered.getKey({ alg: 'RS256', kid: 'rsa' }))
  t.equal(filtered.status.keyCount, 2, 'only the two well-formed keys of allowed algs were kept')
  for (const header of [
    { alg: 'EdDSA', kid: 'ed' },
    { alg: 'RS256', kid: 'ec-as-rs256' },
    { alg: 'ES384', kid: 'ec-as-es384' },
    { alg: 'ES256', kid: 'enc' },
    { alg: 'ES256', kid: 'ops' },
    { alg: 'HS256', kid: 'hmac' },
  ]) {
    await rejectsWithCode(t, filtered.getKey(header), 'ERR_JWKS_NO_MATCHING_KEY', `${header.kid} with ${header.alg} is refused`)
  }
  t.ok(await keySet.getKey({ alg: 'ES256', kid: 'good' }), 'an ES256-only set ignores the RSA and Ed25519 keys')
  t.equal(keySet.status.keyCount, 1)
})

t.test('a key is only ever used with its own alg', async (t) => {
  const key = await generateSigningKey('ES256', 'only-es256')
  const { keySet } = await setup(t, [key], { algorithms: ['ES256', 'ES384', 'RS256'] })
  t.ok(await keySet.getKey({ alg: 'ES256', kid: 'only-es256' }))
  await rejectsWithCode(t, keySet.getKey({ alg: 'ES384', kid: 'only-es256' }), 'ERR_JWKS_NO_MATCHING_KEY')
  await rejectsWithCode(t, keySet.getKey({ alg: 'RS256', kid: 'only-es256' }), 'ERR_JWKS_NO_MATCHING_KEY')
})

t.test('a JWK without alg is used only with the single allowed alg its key type fits', async (t) => {
  const key = await generateSigningKey('ES256', 'no-alg')
  const { alg: _alg, ...withoutAlg } = key.publicJwk
  const { server, keySet } = await setup(t, [])
  server.body = { keys: [withoutAlg] }
  t.ok(await keySet.getKey({ alg: 'ES256', kid: 'no-alg' }))
  const rsa = await generateSigningKey('RS256', 'rsa-no-alg')
  const { alg: _r, ...rsaWithoutAlg } = rsa.publicJwk
  server.body = { keys: [rsaWithoutAlg] }
  const ambiguous = createRemoteKeySet({ url: server.url, algorithms: ['RS256', 'PS256'] })
  await rejectsWithCode(t, ambiguous.getKey({ alg: 'RS256', kid: 'rsa-no-alg' }), 'ERR_JWKS_NO_MATCHING_KEY', 'RSA fits two allowed algs: ignored')
})

t.test('private members published by mistake are never imported', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'leaky', alg: 'ES256', use: 'sig' }
  t.ok(privateJwk.d, 'the published JWK does carry d')
  const { server, keySet } = await setup(t, [])
  server.body = { keys: [privateJwk] }
  const key = await keySet.getKey({ alg: 'ES256', kid: 'leaky' })
  t.equal(key.type, 'public')
  t.same(key.usages, ['verify'])
})

t.test('disallowed header algs and non-string kids are refused without any fetch', async (t) => {
  const key = await generateSigningKey()
  const { server, clock, keySet } = await setup(t, [key])
  await keySet.getKey({ alg: 'ES256', kid: key.kid })
  clock.now = start + 60_000 // past any cooldown: a fetch would be allowed if the lookup asked for one
  const headers: unknown[] = [
    { alg: 'none', kid: key.kid },
    { alg: 'None', kid: key.kid },
    { alg: 'NONE', kid: key.kid },
    { alg: 'nOnE', kid: key.kid },
    { alg: 'es256', kid: key.kid },
    { alg: 'HS256', kid: key.kid },
    { kid: key.kid },
    { alg: 42, kid: key.kid },
    { alg: 'ES256', kid: 1 },
    { alg: 'ES256', kid: { toString: () => key.kid } },
    { alg: 'ES256', kid: [key.kid] },
    { alg: 'ES256', kid: null },
    null,
  ]
  for (const header of headers) {
    await rejectsWithCode(t, keySet.getKey(header as { alg?: string; kid?: string }), 'ERR_JWKS_NO_MATCHING_KEY', `${JSON.stringify(header)} is refused`)
  }
  t.equal(server.requests, 1)
})

t.test('a kid named like an Object.prototype member is just an unknown kid', async (t) => {
  const key = await generateSigningKey()
  const { keySet } = await setup(t, [key])
  for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    await rejectsWithCode(t, keySet.getKey({ alg: 'ES256', kid }), 'ERR_JWKS_NO_MATCHING_KEY')
  }
})

t.test('without a kid a key is chosen only when exactly one fits the alg', async (t) => {
  const a = await generateSigningKey('ES256', 'a')
  const single = await setup(t, [a])
  t.ok(await single.keySet.getKey({ alg: 'ES256' }))
  const b = await generateSigningKey('ES256', 'b')
  const double = await setup(t, [a, b])
  await rejectsWithCode(t, double.keySet.getKey({ alg: 'ES256' }), 'ERR_JWKS_NO_MATCHING_KEY')
})
