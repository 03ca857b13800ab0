import { generateKeyPairSync, sign, verify } from 'node:crypto'
import t from 'tap'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { generateSigningKey, importPrivateKey, keyEncryptionKey, sealPrivateJwk } from '../../src/keys/key-crypto.ts'
import type { SigningAlg } from '../../src/keys/key.store.ts'
import { createJwsSigner, p1363FromDer } from '../../src/tokens/jws-signer.ts'

// The access-token signer (node:crypto, one header per key): what it signs verifies with an
// independent JOSE implementation, for every signing algorithm the service offers.
const kek = keyEncryptionKey(Buffer.alloc(32, 7))

for (const alg of ['ES256', 'EdDSA', 'RS256'] as const satisfies readonly SigningAlg[]) {
  t.test(`${alg}: jose verifies what the signer signs`, async (t) => {
    const key = await generateSigningKey(alg, kek)
    const privateKey = importPrivateKey(key.material.sealedPrivateKey, key.kid, alg, [kek])
    const signer = createJwsSigner({ kid: key.kid, alg, privateKey }, 'at+jwt')
    const claims = { iss: 'https://issuer.test', sub: 'user-1', aud: 'todo-api', exp: Math.floor(Date.now() / 1000) + 60, roles: ['user'], email: 'ü@example.com' }
    for (let i = 0; i < 3; i++) {
      const token = await signer.sign(claims)
      t.same(decodeProtectedHeader(token), { alg, kid: key.kid, typ: 'at+jwt' }, 'exactly alg, kid and typ')
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [key.material.publicJwk] }), { algorithms: [alg], typ: 'at+jwt', issuer: 'https://issuer.test', audience: 'todo-api' })
      t.same(payload, claims, 'the payload as given, non-ASCII included')
      if (alg === 'ES256') t.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, 64, 'ECDSA signature in the r‖s form (RFC 7518 §3.4), not DER')
    }
  })
}

t.test('a tampered payload does not verify', async (t) => {
  const key = await generateSigningKey('ES256', kek)
  const signer = createJwsSigner({ kid: key.kid, alg: 'ES256', privateKey: importPrivateKey(key.material.sealedPrivateKey, key.kid, 'ES256', [kek]) }, 'at+jwt')
  const [h, , s] = (await signer.sign({ sub: 'a' })).split('.')
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'b' })).toString('base64url')}.${s}`
  await t.rejects(jwtVerify(forged, createLocalJWKSet({ keys: [key.material.publicJwk] }), { algorithms: ['ES256'] }), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
})

t.test('a stored key of the wrong type or curve for its alg is refused at load', async (t) => {
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' })
  const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  t.throws(() => importPrivateKey(sealPrivateJwk(p384, 'k1', kek), 'k1', 'ES256', [kek]), { code: 'ERR_KEY_DECRYPTION' }, 'P-384 is not ES256')
  t.throws(() => importPrivateKey(sealPrivateJwk(ed, 'k2', kek), 'k2', 'ES256', [kek]), { code: 'ERR_KEY_DECRYPTION' }, 'Ed25519 is not ES256')
  t.throws(() => importPrivateKey(sealPrivateJwk(p384, 'k3', kek), 'k3', 'EdDSA', [kek]), { code: 'ERR_KEY_DECRYPTION' }, 'EC is not EdDSA')
})

t.test('p1363FromDer: every DER signature OpenSSL writes becomes the r‖s that verifies', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  let short = 0
  for (let i = 0; i < 2000; i++) {
    const data = Buffer.from(`message ${i}`)
    const der = sign('sha256', data, privateKey)
    if (der.length < 70) short++
    const raw = p1363FromDer(der)
    if (raw.length !== 64 || !verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)) t.fail(`signature ${i} did not convert`)
  }
  t.ok(short > 0, `short r or s (leading zero bytes) covered: ${short} of 2000`)
  // Hand-made edge cases: r = 1 (one byte), s with DER's sign byte (33 bytes).
  const s33 = Buffer.concat([Buffer.from([0x00, 0x80]), Buffer.alloc(31, 0x11)])
  const der = Buffer.concat([Buffer.from([0x30, 3 + 2 + 33, 0x02, 0x01, 0x01, 0x02, 33]), s33])
  const raw = p1363FromDer(der)
  t.equal(raw.subarray(0, 32).toString('hex'), `${'00'.repeat(31)}01`)
  t.equal(raw.subarray(32).toString('hex'), `80${'11'.repeat(31)}`)
  for (const bad of [
    Buffer.alloc(0),
    Buffer.from([0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
    Buffer.from([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
    Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x02, 0x01]),
    Buffer.concat([Buffer.from([0x30, 38, 0x02, 33, 0x01]), Buffer.alloc(32), Buffer.from([0x02, 0x01, 0x01])]),
  ]) {
    t.throws(() => p1363FromDer(bad), /not a DER ECDSA signature/)
  }
})
