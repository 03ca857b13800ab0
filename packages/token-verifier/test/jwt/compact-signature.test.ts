// The direct path (compact-signature.ts) against jose's jwtVerify: ES256 with the options
// createAccessTokenVerifier used to pass it, EdDSA with the options token-service passes for a
// BetterAuth JWT (a maximum age among them); on every case, the same answer and the same error code.
import { webcrypto } from 'node:crypto'
import t, { type Test } from 'tap'
import { errors as joseErrors, generateKeyPair, jwtVerify, type CryptoKey } from 'jose'
import { checkRegisteredClaims, verifyCompactJws, type DirectAlgorithm, type RegisteredClaimRules } from '../../src/jwt/compact-signature.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { createAccessTokenVerifier } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { generateSigningKey, startJwksServer } from '../helpers/jwks-server.ts'
import { accessClaims, audience, issuer, mintAccessToken } from '../helpers/tokens.ts'

const nowSec = 1_800_000_000
const toleranceSec = 30
const required = ['exp', 'iat', 'sub', 'jti', 'client_id', 'scope'] as const
const key = await generateSigningKey('ES256', 'a')
const publicKey = (await webcrypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify'])) as CryptoKey

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64url')
const headerOf = (extra: Record<string, unknown> = {}) => b64(JSON.stringify({ alg: 'ES256', kid: 'a', typ: 'at+jwt', ...extra }))

/** Signs `header.payload` (both already encoded) with ES256, the signature as JWS wants it (r‖s). */
async function signRaw(encodedHeader: string, encodedPayload: string, privateKey: CryptoKey = key.privateKey): Promise<string> {
  const input = `${encodedHeader}.${encodedPayload}`
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, Buffer.from(input))
  return `${input}.${b64(Buffer.from(signature))}`
}
const signClaims = (claims: unknown) => signRaw(headerOf(), b64(JSON.stringify(claims)))

type Outcome = 'ok' | 'expired' | 'invalid'

/** One verification profile: the direct path's algorithm and rules, and the same options for jwtVerify. */
interface Profile {
  alg: DirectAlgorithm
  key: CryptoKey
  rules: RegisteredClaimRules
  typ?: string
}
/** As createAccessTokenVerifier used to call jwtVerify. */
const es256: Profile = { alg: 'ES256', key: publicKey, rules: { issuer, audience, required, toleranceSec }, typ: 'at+jwt' }

async function ours(token: string, profile: Profile, verificationKey: CryptoKey = profile.key): Promise<Outcome> {
  try {
    checkRegisteredClaims(await verifyCompactJws(token, verificationKey, profile.alg), profile.rules, nowSec)
    return 'ok'
  } catch (error) {
    // Every refusal is a TokenVerifierError: anything else would reach a caller unmapped.
    if (!(error instanceof TokenVerifierError)) throw error
    return error.code === 'ERR_TOKEN_EXPIRED' ? 'expired' : 'invalid'
  }
}

async function jose(token: string, profile: Profile, verificationKey: CryptoKey = profile.key): Promise<Outcome> {
  const { rules } = profile
  try {
    await jwtVerify(token, verificationKey, {
      algorithms: [profile.alg],
      issuer: rules.issuer,
      audience: typeof rules.audience === 'string' ? rules.audience : [...rules.audience],
      clockTolerance: rules.toleranceSec,
      currentDate: new Date(nowSec * 1000),
      requiredClaims: [...rules.required],
      ...(rules.maxTokenAgeSec !== undefined ? { maxTokenAge: rules.maxTokenAgeSec } : {}),
      ...(profile.typ !== undefined ? { typ: profile.typ } : {}),
    })
    return 'ok'
  } catch (error) {
    return error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid'
  }
}

async function agree(t: Test, name: string, token: string, expected: Outcome, profile: Profile = es256, verificationKey: CryptoKey = profile.key) {
  const [mine, theirs] = [await ours(token, profile, verificationKey), await jose(token, profile, verificationKey)]
  t.equal(theirs, expected, `${name}: jose says ${expected}`)
  t.equal(mine, theirs, `${name}: the direct path says the same`)
}

const claims = (overrides: Record<string, unknown> = {}) => accessClaims(nowSec, overrides)
const without = (name: string) => {
  const c = claims()
  delete c[name]
  return c
}

t.test('claims: presence, iss, aud, and the numeric dates with the tolerance', async (t) => {
  const cases: Array<[string, unknown, Outcome]> = [
    ['a valid token', claims(), 'ok'],
    ...required.map((name): [string, unknown, Outcome] => [`no ${name}`, without(name), 'invalid']),
    ['no iss', without('iss'), 'invalid'],
    ['no aud', without('aud'), 'invalid'],
    ['another iss', claims({ iss: `${issuer}/` }), 'invalid'],
    ['iss of another type', claims({ iss: [issuer] }), 'invalid'],
    ['aud an array containing ours', claims({ aud: ['other', audience] }), 'ok'],
    ['aud an array without ours', claims({ aud: ['other', 'another'] }), 'invalid'],
    ['aud an empty array', claims({ aud: [] }), 'invalid'],
    ['aud another string', claims({ aud: `${audience} ` }), 'invalid'],
    ['aud an object', claims({ aud: { [audience]: true } }), 'invalid'],
    ['aud null', claims({ aud: null }), 'invalid'],
    ['iat a string', claims({ iat: String(nowSec) }), 'invalid'],
    ['iat null', claims({ iat: null }), 'invalid'],
    ['nbf within the tolerance', claims({ nbf: nowSec + toleranceSec }), 'ok'],
    ['nbf past the tolerance', claims({ nbf: nowSec + toleranceSec + 1 }), 'invalid'],
    ['nbf a string', claims({ nbf: String(nowSec) }), 'invalid'],
    ['exp a second inside the tolerance', claims({ exp: nowSec - toleranceSec + 1 }), 'ok'],
    ['exp at the tolerance', claims({ exp: nowSec - toleranceSec }), 'expired'],
    ['exp long past', claims({ exp: nowSec - 3600 }), 'expired'],
    ['exp a string', claims({ exp: String(nowSec + 60) }), 'invalid'],
    ['exp null', claims({ exp: null }), 'invalid'],
    ['expired and of another audience (aud is checked first)', claims({ exp: nowSec - 3600, aud: 'other' }), 'invalid'],
    ['expired and nbf in the future (nbf is checked first)', claims({ exp: nowSec - 3600, nbf: nowSec + 3600 }), 'invalid'],
    ['expired and without jti (presence is checked first)', { ...without('jti'), exp: nowSec - 3600 }, 'invalid'],
    ['fractional dates', claims({ exp: nowSec + 0.5, iat: nowSec - 0.5, nbf: nowSec + 0.25 }), 'ok'],
  ]
  for (const [name, body, expected] of cases) await agree(t, name, await signClaims(body), expected)
})

t.test('payloads that are not a JSON object, and encodings that are not base64url of UTF-8', async (t) => {
  const header = headerOf()
  const cases: Array<[string, string, Outcome]> = [
    ['an array', b64('[1,2]'), 'invalid'],
    ['a string', b64('"claims"'), 'invalid'],
    ['null', b64('null'), 'invalid'],
    ['a number', b64('42'), 'invalid'],
    ['not JSON', b64('{"sub":'), 'invalid'],
    ['invalid UTF-8 inside a string', b64(Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])), 'invalid'],
    ['a length of 1 mod 4', `${b64(JSON.stringify(claims()))}A`.slice(0, 4 * 40 + 1), 'invalid'],
  ]
  for (const [name, payload, expected] of cases) await agree(t, name, await signRaw(header, payload), expected)
})

t.test('signatures: only 64 raw bytes that verify under this key, over exactly this header and payload', async (t) => {
  const good = await signClaims(claims())
  const [h, p, s] = good.split('.') as [string, string, string]
  const raw = Buffer.from(s, 'base64url')
  await agree(t, 'the good token (control)', good, 'ok')
  await agree(t, 'the signature truncated by one byte', `${h}.${p}.${b64(raw.subarray(0, 63))}`, 'invalid')
  await agree(t, 'the signature padded by one byte', `${h}.${p}.${b64(Buffer.concat([raw, Buffer.from([0])]))}`, 'invalid')
  await agree(t, 'a bit flipped in s', `${h}.${p}.${b64(Buffer.from(raw.map((byte, i) => (i === 63 ? byte ^ 1 : byte))))}`, 'invalid')
  await agree(t, 'r and s of zero', `${h}.${p}.${b64(Buffer.alloc(64))}`, 'invalid')
  await agree(t, 'another payload under the same signature', `${h}.${b64(JSON.stringify(claims({ sub: 'admin' })))}.${s}`, 'invalid')
  await agree(t, 'another header under the same signature', `${headerOf({ kid: 'b' })}.${p}.${s}`, 'invalid')
  await agree(t, 'signed by another key', await signRaw(h, p, (await generateSigningKey('ES256', 'a')).privateKey), 'invalid')
})

t.test('a key that is not an ECDSA P-256 verification key is refused, whatever the signature', async (t) => {
  const good = await signClaims(claims())
  const p384 = (await generateKeyPair('ES384')).publicKey as CryptoKey
  const ed25519 = (await generateKeyPair('EdDSA')).publicKey as CryptoKey
  const signOnly = (await webcrypto.subtle.importKey('jwk', { ...key.publicJwk, key_ops: undefined }, { name: 'ECDSA', namedCurve: 'P-256' }, true, [])) as CryptoKey
  await agree(t, 'a P-384 key', good, 'invalid', es256, p384)
  await agree(t, 'an Ed25519 key', good, 'invalid', es256, ed25519)
  await agree(t, 'the right P-256 key without the verify usage', good, 'invalid', es256, signOnly)
})

t.test('through createAccessTokenVerifier: a token of another allowed algorithm still goes through jose', async (t) => {
  const edKey = await generateSigningKey('EdDSA', 'ed')
  const server = await startJwksServer([key.publicJwk, edKey.publicJwk])
  t.teardown(() => server.close())
  const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256', 'EdDSA'], now: () => nowSec * 1000 })
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet, now: () => nowSec * 1000, algorithms: ['ES256', 'EdDSA'], cache: false })
  t.equal((await verifier.verify(await mintAccessToken(edKey, { nowSec }))).header.alg, 'EdDSA', 'an EdDSA access token is accepted when EdDSA is allowed')
  await t.rejects(verifier.verify(await mintAccessToken(edKey, { nowSec, claims: { exp: nowSec - 3600 } })), { code: 'ERR_TOKEN_EXPIRED' })
  await t.rejects(verifier.verify(await mintAccessToken(edKey, { nowSec, claims: { aud: 'other' } })), { code: 'ERR_TOKEN_INVALID' })
  t.equal((await verifier.verify(await mintAccessToken(key, { nowSec }))).header.alg, 'ES256', 'and ES256 next to it')
})

// EdDSA as token-service verifies a BetterAuth JWT (services/token-service/src/better-auth/verify-subject-token.ts).
const edRules: RegisteredClaimRules = { issuer: 'http://identity.test', audience: 'http://token-service.test', required: ['exp', 'iat', 'sub'], toleranceSec, maxTokenAgeSec: 900 }
const edKey = await generateKeyPair('EdDSA')
const edPublic = edKey.publicKey as CryptoKey

async function signEd(claims: unknown, privateKey: CryptoKey = edKey.privateKey as CryptoKey): Promise<string> {
  const input = `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'ed' }))}.${b64(JSON.stringify(claims))}`
  return `${input}.${b64(Buffer.from(await webcrypto.subtle.sign({ name: 'Ed25519' }, privateKey, Buffer.from(input))))}`
}

const ed: Profile = { alg: 'EdDSA', key: edPublic, rules: edRules }

t.test('EdDSA with a maximum age: the claims of a BetterAuth JWT', async (t) => {
  const base = { iss: edRules.issuer, aud: edRules.audience, sub: 'user-1', email: 'a@example.test', iat: nowSec - 10, exp: nowSec + 890 }
  const edWithout = (name: string) => {
    const c: Record<string, unknown> = { ...base }
    delete c[name]
    return c
  }
  const cases: Array<[string, unknown, Outcome]> = [
    ['a valid token', base, 'ok'],
    ['no exp', edWithout('exp'), 'invalid'],
    ['no iat (required with a maximum age)', edWithout('iat'), 'invalid'],
    ['no sub', edWithout('sub'), 'invalid'],
    ['no iss', edWithout('iss'), 'invalid'],
    ['no aud', edWithout('aud'), 'invalid'],
    ['another iss', { ...base, iss: 'http://identity.test/' }, 'invalid'],
    ['aud an array with ours', { ...base, aud: [edRules.audience] }, 'ok'],
    ['another aud', { ...base, aud: 'http://todo-api.test' }, 'invalid'],
    ['iat a string', { ...base, iat: String(nowSec) }, 'invalid'],
    ['iat null', { ...base, iat: null }, 'invalid'],
    ['iat exactly the maximum age plus the tolerance ago', { ...base, iat: nowSec - 900 - toleranceSec }, 'ok'],
    ['iat a second older than that', { ...base, iat: nowSec - 900 - toleranceSec - 1 }, 'expired'],
    ['iat in the future within the tolerance', { ...base, iat: nowSec + toleranceSec }, 'ok'],
    ['iat in the future past the tolerance', { ...base, iat: nowSec + toleranceSec + 1 }, 'invalid'],
    ['too old and expired (exp is checked first)', { ...base, iat: nowSec - 7200, exp: nowSec - 3600 }, 'expired'],
    ['too old and of another audience (aud is checked first)', { ...base, iat: nowSec - 7200, aud: 'other' }, 'invalid'],
    ['exp at the tolerance', { ...base, exp: nowSec - toleranceSec }, 'expired'],
    ['nbf past the tolerance', { ...base, nbf: nowSec + toleranceSec + 1 }, 'invalid'],
    ['fractional iat', { ...base, iat: nowSec - 0.5 }, 'ok'],
  ]
  for (const [name, body, expected] of cases) await agree(t, name, await signEd(body), expected, ed)
})

t.test('EdDSA signatures and keys: only 64 bytes that verify under an Ed25519 verification key', async (t) => {
  const good = await signEd({ iss: edRules.issuer, aud: edRules.audience, sub: 'user-1', iat: nowSec, exp: nowSec + 600 })
  const [h, p, s] = good.split('.') as [string, string, string]
  const raw = Buffer.from(s, 'base64url')
  await agree(t, 'the good token (control)', good, 'ok', ed)
  await agree(t, 'the signature truncated by one byte', `${h}.${p}.${b64(raw.subarray(0, 63))}`, 'invalid', ed)
  await agree(t, 'the signature padded by one byte', `${h}.${p}.${b64(Buffer.concat([raw, Buffer.from([0])]))}`, 'invalid', ed)
  await agree(t, 'a bit flipped in the signature', `${h}.${p}.${b64(Buffer.from(raw.map((byte, i) => (i === 0 ? byte ^ 1 : byte))))}`, 'invalid', ed)
  await agree(t, 'a zero signature', `${h}.${p}.${b64(Buffer.alloc(64))}`, 'invalid', ed)
  await agree(t, 'another payload under the same signature', `${h}.${b64(JSON.stringify({ iss: edRules.issuer, aud: edRules.audience, sub: 'admin', iat: nowSec, exp: nowSec + 600 }))}.${s}`, 'invalid', ed)
  await agree(t, 'a payload that is an array', await signEd([1, 2]), 'invalid', ed)
  await agree(t, 'signed by another Ed25519 key', await signEd({ iss: edRules.issuer, aud: edRules.audience, sub: 'user-1', iat: nowSec, exp: nowSec + 600 }, (await generateKeyPair('EdDSA')).privateKey as CryptoKey), 'invalid', ed)
  const signOnly = (await webcrypto.subtle.importKey('jwk', { ...(await webcrypto.subtle.exportKey('jwk', edPublic)), key_ops: undefined }, { name: 'Ed25519' }, true, [])) as CryptoKey
  await agree(t, 'the right key without the verify usage', good, 'invalid', ed, signOnly)
  await agree(t, 'an ECDSA P-256 key', good, 'invalid', ed, publicKey)
  t.equal(await ours(await signClaims(claims()), es256, edPublic), 'invalid', 'and an ES256 token is not verified with an Ed25519 key')
})

t.test('WebCrypto refusing the key itself is an invalid token, as jose maps it, never an error passed on', async (t) => {
  const good = await signEd({ iss: edRules.issuer, aud: edRules.audience, sub: 'user-1', iat: nowSec, exp: nowSec + 600 })
  // Looks like an Ed25519 verification key to every check before subtle.verify, which refuses it.
  const notAKey = { type: 'public', algorithm: { name: 'Ed25519' }, usages: ['verify'], extractable: true } as unknown as CryptoKey
  await agree(t, 'an object that is not a CryptoKey', good, 'invalid', ed, notAKey)
  await t.rejects(verifyCompactJws(good, notAKey, 'EdDSA'), { code: 'ERR_TOKEN_INVALID' }, 'a TokenVerifierError with the invalid code')
})
