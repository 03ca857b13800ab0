import { webcrypto } from 'node:crypto'
import t, { type Test } from 'tap'
import { createAccessTokenVerifier as createUnwrapped, type AccessTokenVerifier } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey, startJwksServer } from '../helpers/jwks-server.ts'
import { accessClaims, audience, issuer, signRaw } from '../helpers/tokens.ts'
import { cacheModes, verifyTwice } from '../helpers/cache-modes.ts'

// Checklist R09 (header and claims are UTF-8 JSON objects) and R10 (duplicate members: rejected,
// or last-wins used consistently by every layer). Every token here is really signed by the
// published key, so the only thing under test is how header and payload bytes are read.

const nowSec = 1_800_000_000
const now = () => nowSec * 1000
const key = await generateSigningKey('ES256', 'json-key')
const server = await startJwksServer([key.publicJwk])
t.teardown(() => server.close())

const header = (extra: Record<string, unknown> = {}) => JSON.stringify({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...extra })
// A fixed jti, so two tokens differ only where a test makes them differ.
const payload = (overrides: Record<string, unknown> = {}) => JSON.stringify(accessClaims(nowSec, { jti: 'jti-1', ...overrides }))
/** The JSON text of an object with `member` appended once more at the end: a duplicate that comes last. */
const withDuplicate = (json: string, name: string, value: unknown) => `${json.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(value)}}`
/** JSON text with a placeholder replaced by raw bytes (which need not be UTF-8). */
const bytesWith = (json: string, placeholder: string, bytes: number[]) => {
  const at = json.indexOf(placeholder)
  return Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from(bytes), Buffer.from(json.slice(at + placeholder.length))])
}

/** signRaw with the header as raw bytes too. */
async function signBytes(headerBytes: Uint8Array, payloadJson: string): Promise<string> {
  const input = `${Buffer.from(headerBytes).toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey as webcrypto.CryptoKey, Buffer.from(input))
  return `${input}.${Buffer.from(signature).toString('base64url')}`
}

/** What a verifier makes of a token, as a comparable string. */
async function outcome(verifier: AccessTokenVerifier, token: string): Promise<string> {
  try {
    const result = await verifier.verify(token)
    return `accepted ${JSON.stringify({ header: result.header, claims: result.claims })}`
  } catch (error) {
    if (error instanceof TokenVerifierError) return error.code
    throw error
  }
}

for (const mode of cacheModes) {
  t.test(`${mode.name}:`, async (t) => {
    const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now })
    const verifier = verifyTwice(createUnwrapped({ issuer, audience, keySet, now, cache: mode.cache }))

    async function refusedWith(t: Test, token: string, code: string, name: string) {
      t.equal(await outcome(verifier, token), code, name)
    }

    t.test('claims that are valid JSON but not an object are refused, though the signature is good', async (t) => {
      t.match(await outcome(verifier, await signRaw(key.privateKey, header(), payload())), /^accepted /, 'control: an object payload verifies')
      for (const json of ['null', 'true', '42', '"user-1"', '[]', `[${payload()}]`]) {
        await refusedWith(t, await signRaw(key.privateKey, header(), json), 'ERR_TOKEN_INVALID', `payload ${json.slice(0, 20)}`)
      }
      await refusedWith(t, await signRaw(key.privateKey, header(), ''), 'ERR_TOKEN_MALFORMED', 'an empty payload')
    })

    t.test('a protected header that is valid JSON but not an object is malformed', async (t) => {
      for (const json of ['null', 'true', '42', '"ES256"', '[]', `[${header()}]`]) {
        await refusedWith(t, await signRaw(key.privateKey, json, payload()), 'ERR_TOKEN_MALFORMED', `header ${json.slice(0, 20)}`)
      }
    })

    t.test('invalid UTF-8 anywhere in the header or the claims is refused, even inside a string value', async (t) => {
      // Each sequence would decode to U+FFFD with a lenient decoder, and the JSON would then parse.
      const invalid: Array<[string, number[]]> = [
        ['a lone 0xFF byte', [0xff]],
        ['a UTF-16 surrogate encoded in UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
        ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
        ['a truncated three-byte sequence (E2 82)', [0xe2, 0x82]],
        ['a continuation byte alone (80)', [0x80]],
      ]
      const marker = 'MARKER'
      for (const [name, bytes] of invalid) {
        const badClaims = bytesWith(payload({ sub: `user-${marker}` }), marker, bytes)
        await refusedWith(t, await signRaw(key.privateKey, header(), badClaims), 'ERR_TOKEN_INVALID', `claims: ${name}`)
        const badHeader = bytesWith(header({ extra: marker }), marker, bytes)
        await refusedWith(t, await signBytes(badHeader, payload()), 'ERR_TOKEN_MALFORMED', `header: ${name}`)
      }
      const fine = bytesWith(payload({ sub: `user-${marker}` }), marker, [0xc3, 0xa9])
      t.match(await outcome(verifier, await signRaw(key.privateKey, header(), fine)), /"sub":"user-é"/, 'control: valid multi-byte UTF-8 is read as such')
    })

    t.test('a duplicated claim is read last-wins by every check, exactly as if only the last one were sent', async (t) => {
      const cases: Array<[string, string, unknown, unknown]> = [
        // [name, claim, first value, last value]
        ['sub', 'sub', 'user-1', 'user-2'],
        ['iss, good then foreign', 'iss', issuer, 'https://evil.example'],
        ['iss, foreign then good', 'iss', 'https://evil.example', issuer],
        ['aud, ours then another', 'aud', audience, 'token-service'],
        ['aud, another then ours', 'aud', 'token-service', audience],
        ['exp, future then past', 'exp', nowSec + 900, nowSec - 600],
        ['exp, past then future', 'exp', nowSec - 600, nowSec + 900],
        ['scope, wide then narrow', 'scope', 'todos:read todos:write', 'todos:read'],
        ['roles, user then admin', 'roles', ['user'], ['admin']],
        ['client_id, a string then a number', 'client_id', 'cli', 7],
      ]
      const outcomes = new Set<string>()
      for (const [name, claim, first, last] of cases) {
        const duplicated = withDuplicate(payload({ [claim]: first }), claim, last)
        t.equal(duplicated.split(`"${claim}":`).length, 3, `${name}: the claim really is in the payload twice`)
        t.same(JSON.parse(duplicated)[claim], last, `${name}: JSON.parse keeps the last`)
        const single = payload({ [claim]: last })
        const got = await outcome(verifier, await signRaw(key.privateKey, header(), duplicated))
        const expected = await outcome(verifier, await signRaw(key.privateKey, header(), single))
        t.equal(got, expected, `${name}: same outcome as the last value alone (${expected.slice(0, 40)})`)
        outcomes.add(got.startsWith('accepted') ? 'accepted' : got)
      }
      t.same([...outcomes].sort(), ['ERR_TOKEN_EXPIRED', 'ERR_TOKEN_INVALID', 'accepted'], 'the table exercises acceptance, expiry and refusal')
    })

    t.test('a duplicated header member is read last-wins by our checks and by the signature check alike', async (t) => {
      const cases: Array<[string, string, unknown, unknown]> = [
        ['typ, at+jwt then JWT', 'typ', 'at+jwt', 'JWT'],
        ['typ, JWT then at+jwt', 'typ', 'JWT', 'at+jwt'],
        ['alg, ES256 then none', 'alg', 'ES256', 'none'],
        ['alg, ES256 then ES384', 'alg', 'ES256', 'ES384'],
        ['kid, published then unknown', 'kid', key.kid, 'unknown-kid'],
        ['kid, unknown then published', 'kid', 'unknown-kid', key.kid],
        ['kid, published then a number', 'kid', key.kid, 7],
      ]
      const outcomes = new Set<string>()
      for (const [name, member, first, last] of cases) {
        const duplicated = withDuplicate(header({ [member]: first }), member, last)
        const single = header({ [member]: last })
        const got = await outcome(verifier, await signRaw(key.privateKey, duplicated, payload()))
        const expected = await outcome(verifier, await signRaw(key.privateKey, single, payload()))
        t.equal(got, expected, `${name}: same outcome as the last value alone (${expected.slice(0, 40)})`)
        outcomes.add(got.startsWith('accepted') ? 'accepted' : got)
      }
      t.same([...outcomes].sort(), ['ERR_JWKS_NO_MATCHING_KEY', 'ERR_TOKEN_INVALID', 'accepted'], 'the table exercises acceptance and refusal')
    })

    t.test('a member named __proto__ is plain data: it neither sets a claim nor reaches Object.prototype', async (t) => {
      const sneaky = `${payload().slice(0, -1)},"__proto__":{"admin":true,"scope":"admin"}}`
      const result = await verifier.verify(await signRaw(key.privateKey, header(), sneaky))
      t.same(result.scope, ['todos:read', 'todos:write'], 'the scope is the real claim')
      t.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype is untouched')
      const protoHeader = `${header().slice(0, -1)},"__proto__":{"typ":"JWT"}}`
      t.equal((await verifier.verify(await signRaw(key.privateKey, protoHeader, payload()))).header.typ, 'at+jwt')
    })
  })
}
