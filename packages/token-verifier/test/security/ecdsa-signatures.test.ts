import t, { type Test } from 'tap'
import { createAccessTokenVerifier as createUnwrapped } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey, startJwksServer } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'
import { cacheModes, verifyTwice } from '../helpers/cache-modes.ts'

// Checklist R08 (RFC 7518 §3.4; Wycheproof ecdsa_secp256r1_sha256_p1363; CVE-2022-21449):
// an ES256 signature is exactly 64 bytes, R‖S, each 32 bytes big-endian with 0 < r, s < n.
// Every variant below is built from a signature that verifies, so a refusal can only come
// from the one thing changed.

const nowSec = 1_800_000_000
const now = () => nowSec * 1000
/** The order of the P-256 group. */
const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

const key = await generateSigningKey('ES256', 'es256-key')
const server = await startJwksServer([key.publicJwk])
t.teardown(() => server.close())

const toScalar = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
/** A scalar as exactly 32 big-endian bytes (values ≥ 2^256 are not representable and never asked for). */
const fromScalar = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex')

/** Minimal DER INTEGER: a 0x00 prefix when the high bit is set, no other leading zeros. */
function derInteger(bytes: Buffer): Buffer {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i += 1
  const body = bytes[i]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes.subarray(i)]) : bytes.subarray(i)
  return Buffer.concat([Buffer.from([0x02, body.length]), body])
}

for (const mode of cacheModes) {
  t.test(`${mode.name}:`, async (t) => {
    const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now })
    const verifier = verifyTwice(createUnwrapped({ issuer, audience, keySet, now, cache: mode.cache }))

    const good = await mintAccessToken(key, { nowSec })
    const [h, p, s] = good.split('.') as [string, string, string]
    const raw = Buffer.from(s, 'base64url')
    const r = toScalar(raw.subarray(0, 32))
    const sv = toScalar(raw.subarray(32))
    const withSignature = (signature: Buffer) => `${h}.${p}.${signature.toString('base64url')}`
    const rs = (rValue: bigint, sValue: bigint) => withSignature(Buffer.concat([fromScalar(rValue), fromScalar(sValue)]))

    async function refused(t: Test, token: string, name: string) {
      try {
        await verifier.verify(token)
        t.fail(`${name}: accepted`)
      } catch (error) {
        t.ok(error instanceof TokenVerifierError, `${name}: a TokenVerifierError`)
        t.equal((error as TokenVerifierError).code, 'ERR_TOKEN_INVALID', `${name}: ERR_TOKEN_INVALID`)
      }
    }

    t.test('the unmodified signature verifies (control for every case below)', async (t) => {
      t.equal(raw.length, 64, 'jose signs ES256 as 64 raw bytes')
      t.equal((await verifier.verify(rs(r, sv))).sub, 'user-1', 're-encoding r and s gives back the same token')
      t.equal(rs(r, sv), good)
    })

    t.test('r or s of zero, of n, or of any value ≥ n is refused (psychic signatures, CVE-2022-21449)', async (t) => {
      const max = (1n << 256n) - 1n
      const cases: Array<[string, bigint, bigint]> = [
        ['r = 0, s = 0', 0n, 0n],
        ['r = 0', 0n, sv],
        ['s = 0', r, 0n],
        ['r = n', n, sv],
        ['s = n', r, n],
        ['r = s = n', n, n],
        ['r = n + 1', n + 1n, sv],
        ['s = n + 1', r, n + 1n],
        ['r = 2^256 − 1', max, sv],
        ['s = 2^256 − 1', r, max],
        ['r and s all ones', max, max],
        ['r = 1, s = 1', 1n, 1n],
        ['r and s swapped', sv, r],
        // r + n and s + n name the same residues mod n; a verifier that reduces before range-checking accepts them.
        ...(r + n <= max ? [['r + n (same residue)', r + n, sv] as [string, bigint, bigint]] : []),
        ...(sv + n <= max ? [['s + n (same residue)', r, sv + n] as [string, bigint, bigint]] : []),
      ]
      for (const [name, rValue, sValue] of cases) await refused(t, rs(rValue, sValue), name)
    })

    t.test('anything but exactly 64 raw bytes is refused: DER, truncated, padded, other lengths', async (t) => {
      const rBytes = raw.subarray(0, 32)
      const sBytes = raw.subarray(32)
      const rDer = derInteger(Buffer.from(rBytes))
      const sDer = derInteger(Buffer.from(sBytes))
      const der = Buffer.concat([Buffer.from([0x30, rDer.length + sDer.length]), rDer, sDer])
      const cases: Array<[string, Buffer]> = [
        [`DER-encoded (${der.length} bytes)`, der],
        ['DER with a long-form length', Buffer.concat([Buffer.from([0x30, 0x81, rDer.length + sDer.length]), rDer, sDer])],
        ['r and s each with a leading zero byte (66 bytes)', Buffer.concat([Buffer.from([0]), rBytes, Buffer.from([0]), sBytes])],
        ['r alone (32 bytes)', Buffer.from(rBytes)],
        ['one byte short (63 bytes)', raw.subarray(0, 63)],
        ['one leading zero byte more (65 bytes)', Buffer.concat([Buffer.from([0]), raw])],
        ['one trailing byte more (65 bytes)', Buffer.concat([raw, Buffer.from([0])])],
        ['the ES384 length (96 bytes)', Buffer.concat([raw, raw.subarray(0, 32)])],
        ['the signature twice (128 bytes)', Buffer.concat([raw, raw])],
        ['a single zero byte', Buffer.from([0])],
      ]
      for (const [name, signature] of cases) await refused(t, withSignature(signature), name)
    })

    t.test('a signature from another token is refused (the signature covers header and payload)', async (t) => {
      const other = await mintAccessToken(key, { nowSec, claims: { sub: 'user-2' } })
      await refused(t, `${h}.${p}.${other.split('.')[2]}`, 'another token’s signature')
      await refused(t, `${h}.${other.split('.')[1]}.${s}`, 'another token’s claims under this signature')
    })
  })
}
