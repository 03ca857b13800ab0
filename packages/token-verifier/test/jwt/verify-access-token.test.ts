import t, { type Test } from 'tap'
import { SignJWT, type JWTPayload } from 'jose'
import { createAccessTokenVerifier as createUnwrapped, type AccessTokenVerifierOptions } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey, startJwksServer, unusedUrl } from '../helpers/jwks-server.ts'
import { accessClaims, audience, encodeSegment, issuer, mintAccessToken, signRaw } from '../helpers/tokens.ts'
import { cacheModes, verifyTwice } from '../helpers/cache-modes.ts'

const nowSec = 1_800_000_000
const now = () => nowSec * 1000

const key = await generateSigningKey('ES256', 'current')
const stranger = await generateSigningKey('ES256', 'current') // same kid, not published
const unpublished = await generateSigningKey('ES256', 'unpublished')
const edKey = await generateSigningKey('EdDSA', 'ba-key')
const server = await startJwksServer([key.publicJwk, edKey.publicJwk])
t.teardown(() => server.close())

for (const mode of cacheModes) {
  t.test(`${mode.name}:`, async (t) => {
    const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256', 'EdDSA'], now })
    // Every verifier of this suite is built in this mode; with the cache on each verification runs twice.
    const createAccessTokenVerifier = (options: AccessTokenVerifierOptions) => verifyTwice(createUnwrapped({ ...options, cache: mode.cache }))
    const verifier = createAccessTokenVerifier({ issuer, audience, keySet, now })

    const header = (extra: Record<string, unknown> = {}) => JSON.stringify({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...extra })
    const payload = (overrides: Record<string, unknown> = {}) => JSON.stringify(accessClaims(nowSec, overrides))

    async function expectCode(t: Test, token: unknown, code: string, name: string) {
      try {
        await verifier.verify(token as string)
        t.fail(`${name}: accepted`)
      } catch (error) {
        t.ok(error instanceof TokenVerifierError, `${name}: a TokenVerifierError`)
        t.equal((error as TokenVerifierError).code, code, `${name}: ${code}`)
        t.notMatch((error as Error).message, /kid|signature|key/i, `${name}: the message is generic`)
      }
    }

    t.test('a valid access token verifies and exposes its claims', async (t) => {
      const token = await mintAccessToken(key, { nowSec })
      const result = await verifier.verify(token)
      t.equal(result.sub, 'user-1')
      t.same(result.scope, ['todos:read', 'todos:write'])
      t.same(result.roles, ['user'])
      t.equal(result.client_id, 'cli')
      t.equal(result.sid, 'session-1')
      t.equal(result.exp, nowSec + 900)
      t.same(result.header, { alg: 'ES256', kid: 'current', typ: 'at+jwt' })
      t.equal(result.claims.iss, issuer)
    })

    t.test('typ application/at+jwt is accepted too (RFC 9068 §4)', async (t) => {
      const token = await mintAccessToken(key, { nowSec, header: { typ: 'application/at+jwt' } })
      t.equal((await verifier.verify(token)).sub, 'user-1')
    })

    t.test('clock tolerance is 30 s for exp, nbf and iat alike', async (t) => {
      t.ok(await verifier.verify(await mintAccessToken(key, { nowSec, claims: { exp: nowSec - 29, iat: nowSec - 900 } })), 'expired 29 s ago')
      t.ok(await verifier.verify(await mintAccessToken(key, { nowSec, claims: { nbf: nowSec + 29 } })), 'nbf 29 s ahead')
      t.ok(await verifier.verify(await mintAccessToken(key, { nowSec, claims: { iat: nowSec + 29 } })), 'iat 29 s ahead')
      await expectCode(t, await mintAccessToken(key, { nowSec, claims: { exp: nowSec - 31, iat: nowSec - 900 } }), 'ERR_TOKEN_EXPIRED', 'expired 31 s ago')
      await expectCode(t, await mintAccessToken(key, { nowSec, claims: { nbf: nowSec + 31 } }), 'ERR_TOKEN_INVALID', 'nbf 31 s ahead')
      await expectCode(t, await mintAccessToken(key, { nowSec, claims: { iat: nowSec + 31 } }), 'ERR_TOKEN_INVALID', 'iat 31 s ahead')
    })

    t.test('tokens that are not a compact JWS of three base64url segments are malformed', async (t) => {
      const good = await mintAccessToken(key, { nowSec })
      const [h, p, s] = good.split('.') as [string, string, string]
      const cases: Array<[string, unknown]> = [
        ['not a string', 42],
        ['undefined', undefined],
        ['empty', ''],
        ['garbage', 'garbage'],
        ['two segments', `${h}.${p}`],
        ['four segments', `${good}.${s}`],
        ['five segments (JWE-shaped)', `${h}.${p}.${s}.${s}.${s}`],
        ['empty signature (unsecured JWT)', `${h}.${p}.`],
        ['leading space', ` ${good}`],
        ['trailing newline', `${good}\n`],
        ['inner whitespace', `${h}. ${p}.${s}`],
        ['base64 + and /', `${h}.${p}.${s.slice(0, -2)}+/`],
        ['padding', `${h}.${p}.${s}==`],
        ['JSON serialization', JSON.stringify({ protected: h, payload: p, signature: s })],
        ['header not JSON', `${encodeSegment('not json')}.${p}.${s}`],
        ['header an array', `${encodeSegment('["ES256"]')}.${p}.${s}`],
        ['header invalid UTF-8', `${encodeSegment(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))}.${p}.${s}`],
        ['too long', `${h}.${'A'.repeat(9000)}.${s}`],
        ['refresh-token-shaped (opaque)', 'bm90LWEtand0LWJ1dC1hLXJlZnJlc2gtdG9rZW4tMzItYnl0ZXM'],
      ]
      for (const [name, token] of cases) await expectCode(t, token, 'ERR_TOKEN_MALFORMED', name)
    })

    t.test('headers that break the rules are invalid, whatever the signature', async (t) => {
      t.equal((await verifier.verify(await signRaw(key.privateKey, header(), payload()))).sub, 'user-1', 'control: the hand-built token verifies')
      const cases: Array<[string, string]> = [
        ['alg none', header({ alg: 'none' })],
        ['alg None', header({ alg: 'None' })],
        ['alg NONE', header({ alg: 'NONE' })],
        ['alg nOnE', header({ alg: 'nOnE' })],
        ['alg es256 (case differs)', header({ alg: 'es256' })],
        ['alg HS256', header({ alg: 'HS256' })],
        ['alg ES384', header({ alg: 'ES384' })],
        ['alg EdDSA (not allowed for access tokens)', header({ alg: 'EdDSA' })],
        ['alg missing', JSON.stringify({ kid: key.kid, typ: 'at+jwt' })],
        ['typ missing', JSON.stringify({ alg: 'ES256', kid: key.kid })],
        ['typ JWT', header({ typ: 'JWT' })],
        ['typ AT+JWT (not exact)', header({ typ: 'AT+JWT' })],
        ['typ at+jwt with a suffix', header({ typ: 'at+jwt; charset=utf-8' })],
        ['typ not a string', header({ typ: ['at+jwt'] })],
        ['kid missing', JSON.stringify({ alg: 'ES256', typ: 'at+jwt' })],
        ['kid a number', header({ kid: 7 })],
        ['kid an object', header({ kid: { toString: 'current' } })],
        ['crit exp', header({ crit: ['exp'] })],
        ['b64 false', header({ b64: false, crit: ['b64'] })],
        ['b64 true', header({ b64: true })],
        ['jku', header({ jku: 'https://evil.example/jwks.json' })],
        ['jwk embedded', header({ jwk: key.publicJwk })],
        ['x5u', header({ x5u: 'https://evil.example/cert.pem' })],
        ['x5c', header({ x5c: ['MIIB'] })],
        ['duplicate alg, last none', `{"alg":"ES256","kid":"current","typ":"at+jwt","alg":"none"}`],
      ]
      for (const [name, headerJson] of cases) {
        await expectCode(t, await signRaw(key.privateKey, headerJson, payload()), 'ERR_TOKEN_INVALID', name)
      }
    })

    t.test('claims that break the rules are invalid', async (t) => {
      const cases: Array<[string, Parameters<typeof mintAccessToken>[1]]> = [
        ['another issuer', { nowSec, claims: { iss: 'http://localhost:8080/api/auth' } }],
        ['issuer with a trailing slash', { nowSec, claims: { iss: `${issuer}/` } }],
        ['issuer in another case', { nowSec, claims: { iss: issuer.toUpperCase() } }],
        ['another audience', { nowSec, claims: { aud: 'token-service' } }],
        ['audience missing', { nowSec, omit: ['aud'] }],
        ['audience as an array (the contract says one string)', { nowSec, claims: { aud: [audience, 'other'] } }],
        ...(['exp', 'iat', 'sub', 'jti', 'client_id', 'scope', 'sid', 'email', 'roles', 'iss'] as const).map((claim): [string, Parameters<typeof mintAccessToken>[1]] => [`${claim} missing`, { nowSec, omit: [claim] }]),
        ['exp a string', { nowSec, claims: { exp: String(nowSec + 900) } }],
        ['exp a fraction', { nowSec, claims: { exp: nowSec + 900.5 } }],
        ['sub empty', { nowSec, claims: { sub: '' } }],
        ['sub a number', { nowSec, claims: { sub: 1 } }],
        ['scope an array', { nowSec, claims: { scope: ['todos:read'] } }],
        ['roles a string', { nowSec, claims: { roles: 'admin' } }],
      ]
      for (const [name, options] of cases) await expectCode(t, await mintAccessToken(key, options), 'ERR_TOKEN_INVALID', name)
    })

    t.test('signatures that do not verify are invalid', async (t) => {
      const good = await mintAccessToken(key, { nowSec })
      const [h, p, s] = good.split('.') as [string, string, string]
      const raw = Buffer.from(s, 'base64url')
      const flipped = Buffer.from(raw)
      flipped[10] = flipped[10]! ^ 0x01
      const r = raw.subarray(0, 32)
      const sv = raw.subarray(32)
      const der = Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), r, Buffer.from([0x02, 0x20]), sv])
      const cases: Array<[string, string]> = [
        ['one bit flipped', `${h}.${p}.${flipped.toString('base64url')}`],
        ['r and s zero', `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`],
        ['63 bytes', `${h}.${p}.${raw.subarray(0, 63).toString('base64url')}`],
        ['65 bytes', `${h}.${p}.${Buffer.concat([raw, Buffer.from([0])]).toString('base64url')}`],
        ['DER-encoded', `${h}.${p}.${der.toString('base64url')}`],
        ['payload swapped', `${h}.${encodeSegment(payload({ sub: 'admin' }))}.${s}`],
        ['signed by another key with the same kid', await mintAccessToken(stranger, { nowSec })],
      ]
      for (const [name, token] of cases) await expectCode(t, token, 'ERR_TOKEN_INVALID', name)
      await expectCode(t, await signRaw(key.privateKey, header(), '"a string payload"'), 'ERR_TOKEN_INVALID', 'a non-object payload')
      await expectCode(t, await signRaw(key.privateKey, header(), Buffer.from([0x7b, 0xff, 0x7d])), 'ERR_TOKEN_INVALID', 'a payload of invalid UTF-8')
    })

    t.test('HS256 signed with the public key as the secret is refused (key confusion)', async (t) => {
      const token = await new SignJWT(accessClaims(nowSec) as JWTPayload).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(new Uint8Array(Buffer.from(JSON.stringify(key.publicJwk))))
      await expectCode(t, token, 'ERR_TOKEN_INVALID', 'HS256 with the public JWK as secret')
    })

    t.test('an unknown kid is ERR_JWKS_NO_MATCHING_KEY (the caller answers invalid_token)', async (t) => {
      await expectCode(t, await mintAccessToken(unpublished, { nowSec }), 'ERR_JWKS_NO_MATCHING_KEY', 'unknown kid')
    })

    t.test('a BetterAuth JWT presented as an access token is refused', async (t) => {
      // EdDSA, iss .../api/auth, aud token-service, no typ: it fails several rules (R16).
      const betterAuthJwt = await new SignJWT({ sub: 'user-1', email: 'one@example.com', role: 'user' })
        .setProtectedHeader({ alg: 'EdDSA', kid: edKey.kid })
        .setIssuer('http://localhost:8080/api/auth')
        .setAudience('token-service')
        .setIssuedAt(nowSec)
        .setExpirationTime(nowSec + 900)
        .sign(edKey.privateKey)
      await expectCode(t, betterAuthJwt, 'ERR_TOKEN_INVALID', 'BetterAuth JWT')
      const lenient = createAccessTokenVerifier({ issuer, audience, keySet, now, algorithms: ['ES256', 'EdDSA'] })
      await t.rejects(lenient.verify(betterAuthJwt), { code: 'ERR_TOKEN_INVALID' }, 'refused even when EdDSA were allowed')
    })

    t.test('an ID-token-shaped token is refused', async (t) => {
      const idToken = await new SignJWT({ sub: 'user-1', nonce: 'n', azp: 'web', email: 'one@example.com' })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience('web')
        .setIssuedAt(nowSec)
        .setExpirationTime(nowSec + 900)
        .sign(key.privateKey)
      await expectCode(t, idToken, 'ERR_TOKEN_INVALID', 'ID token')
    })

    t.test('when the key set cannot be fetched and nothing is cached the verifier says unavailable, never valid', async (t) => {
      const down = createAccessTokenVerifier({
        issuer,
        audience,
        now,
        keySet: createRemoteKeySet({ url: await unusedUrl(), algorithms: ['ES256'], now }),
      })
      await t.rejects(down.verify(await mintAccessToken(key, { nowSec })), { code: 'ERR_JWKS_UNAVAILABLE' })
    })

    t.test('a plain key resolver works in place of a remote key set', async (t) => {
      const resolver = { getKey: async () => keySet.getKey({ alg: 'ES256', kid: key.kid }) }
      const local = createAccessTokenVerifier({ issuer, audience, keySet: resolver, now })
      t.equal((await local.verify(await mintAccessToken(key, { nowSec }))).sub, 'user-1')
    })

    t.test('an audience list accepts a token for any of them', async (t) => {
      const many = createAccessTokenVerifier({ issuer, audience: ['other-api', audience], keySet, now })
      t.equal((await many.verify(await mintAccessToken(key, { nowSec }))).sub, 'user-1')
    })

    t.test('unsafe verifier options are refused at creation', async (t) => {
      for (const algorithms of [[], ['none'], ['NONE'], ['HS256']]) {
        t.throws(() => createAccessTokenVerifier({ issuer, audience, keySet, algorithms }), TypeError, JSON.stringify(algorithms))
      }
    })
  })
}
