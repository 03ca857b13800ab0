import { generateKeyPairSync, KeyObject } from 'node:crypto'
import t from 'tap'
import { exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose'
import { createAccessTokenVerifier as createUnwrapped } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { supportedAlgorithms } from '../../src/jwks/key-algorithms.ts'
import { signatureAlgorithms, verifySignature } from '../../src/jws/verify-signature.ts'
import { generateSigningKey, startJwksServer } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'
import { cacheModes, verifyTwice } from '../helpers/cache-modes.ts'

// The signature step (src/jws/verify-signature.ts): node:crypto, synchronous, for every algorithm a
// remote key set accepts; the key must fit the alg as jose required; ECDSA signatures are R‖S only.

const nowSec = 1_800_000_000
const now = () => nowSec * 1000

t.test('it implements exactly the algorithms a remote key set accepts', async (t) => {
  t.same([...signatureAlgorithms].sort(), [...supportedAlgorithms].sort())
})

const keys = await Promise.all(supportedAlgorithms.map((alg) => generateSigningKey(alg, `key-${alg}`)))
const server = await startJwksServer(keys.map((key) => key.publicJwk))
t.teardown(() => server.close())

for (const mode of cacheModes) {
  t.test(`${mode.name}: every algorithm verifies through the verifier, and a changed signature is refused`, async (t) => {
    for (const key of keys) {
      const keySet = createRemoteKeySet({ url: server.url, algorithms: [key.alg], now })
      const verifier = verifyTwice(createUnwrapped({ issuer, audience, keySet, now, algorithms: [key.alg], cache: mode.cache }))
      const token = await mintAccessToken(key, { nowSec })
      t.equal((await verifier.verify(token)).sub, 'user-1', `${key.alg}: verifies`)
      const [h, p, s] = token.split('.') as [string, string, string]
      const flipped = Buffer.from(s, 'base64url')
      flipped[5] = flipped[5]! ^ 0x10
      await t.rejects(verifier.verify(`${h}.${p}.${flipped.toString('base64url')}`), { code: 'ERR_TOKEN_INVALID' }, `${key.alg}: a flipped bit is refused`)
      const other = await mintAccessToken(key, { nowSec, claims: { sub: 'admin' } })
      await t.rejects(verifier.verify(`${h}.${other.split('.')[1]}.${s}`), { code: 'ERR_TOKEN_INVALID' }, `${key.alg}: another payload under this signature is refused`)
    }
  })
}

/** A signed compact JWS of this key, split into what verifySignature takes. */
async function signed(alg: string) {
  const key = keys.find((k) => k.alg === alg)!
  const token = await mintAccessToken(key, { nowSec })
  const at = token.lastIndexOf('.')
  return { input: token.slice(0, at), signature: Buffer.from(token.slice(at + 1), 'base64url'), publicKey: (await importJWK(key.publicJwk, alg)) as CryptoKey }
}

t.test('ECDSA signatures must be exactly R‖S of the curve: other lengths and DER are refused', async (t) => {
  for (const [alg, length] of [
    ['ES256', 64],
    ['ES384', 96],
    ['ES512', 132],
  ] as const) {
    const { input, signature, publicKey } = await signed(alg)
    t.equal(signature.length, length, `${alg}: ${length} bytes`)
    t.equal(verifySignature(alg, publicKey, input, signature), true, `${alg}: control`)
    const half = length / 2
    const der = (bytes: Buffer) => {
      const int = (part: Buffer) => (part[0]! >= 0x80 ? Buffer.concat([Buffer.from([2, part.length + 1, 0]), part]) : Buffer.concat([Buffer.from([2, part.length]), part]))
      const body = Buffer.concat([int(bytes.subarray(0, half)), int(bytes.subarray(half))])
      return Buffer.concat([Buffer.from(body.length < 128 ? [0x30, body.length] : [0x30, 0x81, body.length]), body])
    }
    for (const [name, bad] of [
      ['DER', der(signature)],
      ['one byte short', signature.subarray(0, length - 1)],
      ['one byte more', Buffer.concat([signature, Buffer.from([0])])],
      ['empty', Buffer.alloc(0)],
      ['all zero', Buffer.alloc(length)],
    ] as const) {
      t.equal(verifySignature(alg, publicKey, input, bad), false, `${alg}: ${name}`)
    }
  }
})

t.test('a key is used only with the alg it fits (jose’s checks on the key)', async (t) => {
  const es256 = await signed('ES256')
  const es384 = await signed('ES384')
  t.equal(verifySignature('ES256', es384.publicKey, es256.input, es256.signature), false, 'a P-384 key for ES256')
  t.equal(verifySignature('ES384', es256.publicKey, es384.input, es384.signature), false, 'a P-256 key for ES384')
  const rs256 = await signed('RS256')
  const ps256 = await signed('PS256')
  t.equal(verifySignature('PS256', rs256.publicKey, rs256.input, rs256.signature), false, 'an RSASSA-PKCS1-v1_5 key for PS256')
  t.equal(verifySignature('RS384', rs256.publicKey, rs256.input, rs256.signature), false, 'a SHA-256 RSA key for RS384')
  t.equal(verifySignature('RS256', ps256.publicKey, ps256.input, ps256.signature), false, 'an RSA-PSS key for RS256')
  t.equal(verifySignature('EdDSA', es256.publicKey, es256.input, es256.signature), false, 'an EC key for EdDSA')
  t.equal(verifySignature('HS256', es256.publicKey, es256.input, es256.signature), false, 'an alg it does not implement')
  t.equal(verifySignature('ES256', null as unknown as CryptoKey, es256.input, es256.signature), false, 'no key')
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  t.equal(verifySignature('ES256', privateKey, es256.input, es256.signature), false, 'a private key')
})

t.test('RSA keys shorter than 2048 bits are refused, as jose refused them', async (t) => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const jwk = { ...(await exportJWK(publicKey)), alg: 'RS256' }
  t.equal(verifySignature('RS256', publicKey, 'a.b', Buffer.alloc(128)), false, 'a KeyObject')
  t.equal(verifySignature('RS256', (await importJWK(jwk, 'RS256')) as CryptoKey, 'a.b', Buffer.alloc(128)), false, 'a CryptoKey')
})

t.test('keys of another resolver: a KeyObject, an extractable and a non-extractable CryptoKey all verify', async (t) => {
  const key = keys.find((k) => k.alg === 'ES256')!
  const { input, signature } = await signed('ES256')
  const tampered = Buffer.from(signature)
  tampered[0] = tampered[0]! ^ 1
  const candidates: Array<[string, CryptoKey | KeyObject]> = [
    ['KeyObject', KeyObject.from((await importJWK({ ...key.publicJwk, ext: true }, 'ES256')) as Parameters<typeof KeyObject.from>[0])],
    ['extractable CryptoKey', (await importJWK({ ...key.publicJwk, ext: true }, 'ES256')) as CryptoKey],
    ['non-extractable CryptoKey (through WebCrypto)', (await importJWK({ ...key.publicJwk, ext: false }, 'ES256')) as CryptoKey],
  ]
  for (const [name, candidate] of candidates) {
    t.equal(await verifySignature('ES256', candidate, input, signature), true, `${name}: verifies`)
    t.equal(await verifySignature('ES256', candidate, input, tampered), false, `${name}: a changed signature is refused`)
  }
  const resolver = { getKey: async () => candidates[2]![1] as CryptoKey }
  const verifier = createUnwrapped({ issuer, audience, keySet: resolver, now, cache: false })
  t.equal((await verifier.verify(await mintAccessToken(key, { nowSec }))).sub, 'user-1', 'the verifier takes the WebCrypto path too')
})

t.test('segments must be canonical base64url: no leftover character, no bits after the last byte', async (t) => {
  const key = keys.find((k) => k.alg === 'ES256')!
  const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now })
  const verifier = createUnwrapped({ issuer, audience, keySet, now, cache: false })
  const token = await mintAccessToken(key, { nowSec })
  const [h, p, s] = token.split('.') as [string, string, string]
  t.equal(s.length % 4, 2, 'an ES256 signature ends with 4 unused bits')
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s.at(-1)!)
  const withBits = `${s.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1]}`
  t.same(Buffer.from(withBits, 'base64url'), Buffer.from(s, 'base64url'), 'the same bytes, spelt differently')
  await t.rejects(verifier.verify(`${h}.${p}.${withBits}`), { code: 'ERR_TOKEN_INVALID' }, 'non-zero unused bits')
  await t.rejects(verifier.verify(`${h}.${p}.${s}A`), { code: 'ERR_TOKEN_INVALID' }, 'a leftover character (4n + 1)')
  await t.rejects(verifier.verify(`${h}A.${p}.${s}`), { code: 'ERR_TOKEN_INVALID' }, 'in the header')
  t.equal((await verifier.verify(token)).sub, 'user-1', 'control')
})

t.test('options the signature step cannot honour are refused at creation', async (t) => {
  const keySet = { getKey: async () => (await signed('ES256')).publicKey }
  t.throws(() => createUnwrapped({ issuer, audience, keySet, algorithms: ['ES256K'] }), TypeError, 'an algorithm it does not implement')
  for (const clockToleranceSec of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => createUnwrapped({ issuer, audience, keySet, clockToleranceSec }), TypeError, `tolerance ${clockToleranceSec}`)
  }
})
