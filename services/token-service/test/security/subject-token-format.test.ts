import { webcrypto } from 'node:crypto'
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.ts'
import { InvalidGrant } from '../../src/errors.ts'
import { createSubjectTokenVerifier, type SubjectTokenVerifier } from '../../src/better-auth/verify-subject-token.ts'
import { testClock } from '../helpers/build.ts'
import { ed25519Key, signSubjectToken, startJwksFixture, type FixtureKey } from '../better-auth/jwks-fixture.ts'

// The BetterAuth JWT (subject token) at the byte level: checklist R02, R04, R06, R07, R08 (its
// EdDSA analogue), R09 and R10 on the upstream side. Every token is really signed by the key
// BetterAuth's JWKS publishes, so a refusal comes from the one thing a case changes.

const issuer = 'http://localhost:8080/api/auth'
const audience = 'token-service'
const key = await ed25519Key('ba-1')
const jwks = await startJwksFixture([key.publicJwk])
t.teardown(() => jwks.close())
const clock = testClock()
const verifier = createSubjectTokenVerifier(loadConfig({ BETTER_AUTH_JWKS_URL: jwks.url }), { clock })
const nowSec = Math.floor(clock.now() / 1000)

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64url')
const claims = (extra: Record<string, unknown> = {}) => JSON.stringify({ sub: 'user-1', iss: issuer, aud: audience, iat: nowSec, exp: nowSec + 900, email: 'u1@example.com', ...extra })
const header = (extra: Record<string, unknown> = {}) => JSON.stringify({ alg: 'EdDSA', kid: key.kid, ...extra })
const withDuplicate = (json: string, name: string, value: unknown) => `${json.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(value)}}`
const bytesWith = (json: string, placeholder: string, bytes: number[]) => {
  const at = json.indexOf(placeholder)
  return Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from(bytes), Buffer.from(json.slice(at + placeholder.length))])
}

/** A compact JWS signed with Ed25519 by hand, so header and payload can be any bytes. */
async function signRaw(signer: FixtureKey, headerBytes: string | Uint8Array, payloadBytes: string | Uint8Array): Promise<string> {
  const input = `${b64(headerBytes)}.${b64(payloadBytes)}`
  const signature = await webcrypto.subtle.sign({ name: 'Ed25519' }, signer.privateKey as webcrypto.CryptoKey, Buffer.from(input))
  return `${input}.${b64(new Uint8Array(signature))}`
}

/** What the verifier makes of a token, as a comparable string. */
async function outcome(v: SubjectTokenVerifier, token: string): Promise<string> {
  try {
    // The identity only: exp and jti, also answered, are the replay limit's (verify-subject-token.test.ts).
    const { sub, email, roles } = await v.verify(token)
    return `accepted ${JSON.stringify({ sub, email, roles })}`
  } catch (error) {
    if (error instanceof InvalidGrant) return `invalid_grant: ${error.description}`
    throw error
  }
}

const refusal = 'invalid_grant: the subject token is invalid'
async function refused(t: Test, token: string, name: string) {
  t.equal(await outcome(verifier, token), refusal, name)
}

t.test('the hand-signed control token verifies', async (t) => {
  t.equal(await outcome(verifier, await signRaw(key, header(), claims())), `accepted ${JSON.stringify({ sub: 'user-1', email: 'u1@example.com', roles: ['user'] })}`)
  t.equal(await outcome(verifier, await signSubjectToken(key, JSON.parse(claims()))), await outcome(verifier, await signRaw(key, header(), claims())), 'jose-signed and hand-signed agree')
})

t.test('alg none in any casing, and algs outside the allow-list, are refused (R02, R03)', async (t) => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE', 'eddsa', 'EDDSA', 'Ed25519', 'ES256', 'HS256', 'RS256', '']) {
    await refused(t, await signRaw(key, header({ alg }), claims()), `alg ${JSON.stringify(alg)}`)
  }
  await refused(t, `${b64(header({ alg: 'None' }))}.${b64(claims())}.`, 'alg None with an empty signature')
})

t.test('key material or processing rules named by the token are refused (R04, R06)', async (t) => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['x5c', { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }],
    ['x5u', { x5u: 'https://evil.example/cert.pem' }],
    ['jku', { jku: 'https://evil.example/jwks.json' }],
    ['jwk (our own public key, even)', { jwk: key.publicJwk }],
    ['b64 false with crit', { b64: false, crit: ['b64'] }],
    ['b64 false without crit', { b64: false }],
    ['b64 true', { b64: true }],
    ['crit with an unknown extension', { crit: ['urn:example:ext'], 'urn:example:ext': 1 }],
    ['crit naming a registered member', { crit: ['exp'] }],
    ['crit empty', { crit: [] }],
  ]
  for (const [name, extra] of cases) await refused(t, await signRaw(key, header(extra), claims()), name)
})

t.test('only compact JWS of three base64url segments is accepted (R07)', async (t) => {
  const good = await signRaw(key, header(), claims())
  const [h, p, s] = good.split('.') as [string, string, string]
  const cases: Array<[string, string]> = [
    ['JWS JSON serialization (flattened)', JSON.stringify({ protected: h, payload: p, signature: s })],
    ['JWS JSON serialization (general)', JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] })],
    ['five segments (JWE-shaped)', `${h}.${p}.${s}.${s}.${s}`],
    ['four segments', `${good}.${s}`],
    ['two segments', `${h}.${p}`],
    ['an empty payload segment', `${h}..${s}`],
    ['a trailing newline', `${good}\n`],
    ['a leading tab', `\t${good}`],
    ['a space inside', `${h}. ${p}.${s}`],
    ['base64 + and / instead of - and _', `${h}.${p}.${s.slice(0, -2)}+/`],
    ['base64 padding', `${h}.${p}.${s}==`],
    ['percent-encoded dots', `${h}%2E${p}%2E${s}`],
  ]
  for (const [name, token] of cases) await refused(t, token, name)
  t.equal(await outcome(verifier, good), await outcome(verifier, good), 'control: the untouched token still verifies')
  t.match(await outcome(verifier, good), /^accepted /)
})

t.test('EdDSA signatures that are not the one canonical 64-byte signature are refused (the R08 analogue)', async (t) => {
  const good = await signRaw(key, header(), claims())
  const [h, p, s] = good.split('.') as [string, string, string]
  const raw = Buffer.from(s, 'base64url')
  // RFC 8032 §5.1.7: S must be < L; S + L verifies on a lax implementation (signature malleability).
  const L = 2n ** 252n + 27742317777372353535851937790883648493n
  const sLittle = raw.subarray(32)
  const sValue = BigInt(`0x${Buffer.from(sLittle).reverse().toString('hex')}`)
  const sPlusL = Buffer.from((sValue + L).toString(16).padStart(64, '0'), 'hex').reverse()
  const cases: Array<[string, Buffer]> = [
    ['S + L (malleable twin)', Buffer.concat([raw.subarray(0, 32), sPlusL])],
    ['all zeros', Buffer.alloc(64)],
    ['63 bytes', raw.subarray(0, 63)],
    ['65 bytes', Buffer.concat([raw, Buffer.from([0])])],
    ['one bit flipped', Buffer.from(raw.map((byte, i) => (i === 5 ? byte ^ 1 : byte)))],
  ]
  for (const [name, signature] of cases) await refused(t, `${h}.${p}.${signature.toString('base64url')}`, name)
})

t.test('header and claims must be UTF-8 JSON objects (R09)', async (t) => {
  for (const json of ['null', 'true', '42', '"user-1"', '[]', `[${claims()}]`]) {
    await refused(t, await signRaw(key, header(), json), `claims ${json.slice(0, 20)}`)
    await refused(t, await signRaw(key, json, claims()), `header ${json.slice(0, 20)}`)
  }
  const invalid: Array<[string, number[]]> = [
    ['a lone 0xFF byte', [0xff]],
    ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
  ]
  for (const [name, bytes] of invalid) {
    await refused(t, await signRaw(key, header(), bytesWith(claims({ sub: 'user-MARK' }), 'MARK', bytes)), `invalid UTF-8 in a claim: ${name}`)
    await refused(t, await signRaw(key, bytesWith(header({ x: 'MARK' }), 'MARK', bytes), claims()), `invalid UTF-8 in the header: ${name}`)
  }
  t.match(await outcome(verifier, await signRaw(key, header(), bytesWith(claims({ email: 'MARK@example.com' }), 'MARK', [0xc3, 0xa9]))), /"email":"é@example.com"/, 'control: valid UTF-8 is read')
})

t.test('a duplicated claim or header member is read last-wins by every check, exactly like the last value alone (R10)', async (t) => {
  const claimCases: Array<[string, string, unknown, unknown]> = [
    ['sub', 'sub', 'user-1', 'user-2'],
    ['iss, ours then foreign', 'iss', issuer, 'https://evil.example'],
    ['iss, foreign then ours', 'iss', 'https://evil.example', issuer],
    ['aud, ours then another', 'aud', audience, 'todo-api'],
    ['aud, another then ours', 'aud', 'todo-api', audience],
    ['aud, ours then a list with another', 'aud', audience, [audience, 'todo-api']],
    ['exp, future then past', 'exp', nowSec + 900, nowSec - 600],
    ['role, user then admin', 'role', 'user', 'admin'],
    ['banned, true then false', 'banned', true, false],
    ['banned, false then true', 'banned', false, true],
    ['email', 'email', 'a@example.com', 'b@example.com'],
  ]
  const outcomes = new Set<string>()
  for (const [name, claim, first, last] of claimCases) {
    const duplicated = withDuplicate(claims({ [claim]: first }), claim, last)
    t.equal(duplicated.split(`"${claim}":`).length, 3, `${name}: really twice in the claims`)
    const got = await outcome(verifier, await signRaw(key, header(), duplicated))
    t.equal(got, await outcome(verifier, await signRaw(key, header(), claims({ [claim]: last }))), `${name}: like the last value alone`)
    outcomes.add(got.startsWith('accepted') ? 'accepted' : got)
  }
  const headerCases: Array<[string, string, unknown, unknown]> = [
    ['alg, EdDSA then none', 'alg', 'EdDSA', 'none'],
    ['alg, none then EdDSA', 'alg', 'none', 'EdDSA'],
    ['kid, published then unknown', 'kid', key.kid, 'ba-unknown'],
    ['kid, unknown then published', 'kid', 'ba-unknown', key.kid],
    ['jku, a URL then null', 'jku', 'https://evil.example/jwks.json', null],
  ]
  for (const [name, member, first, last] of headerCases) {
    const got = await outcome(verifier, await signRaw(key, withDuplicate(header({ [member]: first }), member, last), claims()))
    t.equal(got, await outcome(verifier, await signRaw(key, header({ [member]: last }), claims())), `${name}: like the last value alone`)
    outcomes.add(got.startsWith('accepted') ? 'accepted' : got)
  }
  t.same([...outcomes].sort(), ['accepted', refusal], 'the tables exercise both acceptance and refusal')
})
