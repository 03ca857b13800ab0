import { TodoScope, type AccessTokenClaims, type AccessTokenHeader } from '@todo-auth/contracts'
import { exampleAccessTokenKey, exampleBetterAuthKey } from '../support/example-keys.ts'
import { signExample } from '../support/token-sign.ts'

/**
 * Example values the consumer tests put into the pacts. Fixed, so the pact
 * files are reproducible; times sit in the past, so the tokens a consumer
 * process really verifies are signed with them moved to now
 * (support/example-issuer.ts issuedNow).
 */
export const exampleIat = 1_790_000_000

/** Our issuer and todo-api's audience as DEFAULTS.md fixes them. */
export const tokenIssuer = 'http://localhost:8080'
export const todoApiAudience = 'todo-api'
export const betterAuthIssuer = 'http://localhost:8080/api/auth'
export const betterAuthAudience = 'token-service'

export const exampleUserId = 'mG4x2cQy9TzR7wKpL1vN3sBdF8hJ0aE5'
export const exampleEmail = 'ada@example.test'
export const exampleSessionId = 'Zk3nQ0b9yV6sT2wX8cR1mL4pJ7hD5fGa'

export const exampleAccessTokenHeader: AccessTokenHeader = { alg: 'ES256', kid: exampleAccessTokenKey.kid, typ: 'at+jwt' }

export const exampleAccessTokenClaims: AccessTokenClaims = {
  iss: tokenIssuer,
  sub: exampleUserId,
  aud: todoApiAudience,
  exp: exampleIat + 900,
  iat: exampleIat,
  jti: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
  client_id: 'web',
  scope: `${TodoScope.read} ${TodoScope.write}`,
  sid: exampleSessionId,
  email: exampleEmail,
  roles: ['user'],
}

const base64urlJson = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * An access token as an example string in requests (providers replace it with
 * a real one through provider-state values). ES256 signatures are randomised,
 * so a real signature would change the pact file on every run: the signature
 * segment here is a fixed placeholder and this token is never verified.
 */
export const exampleAccessToken = `${base64urlJson(exampleAccessTokenHeader)}.${base64urlJson(exampleAccessTokenClaims)}.${'example-signature'.padEnd(86, '0')}`

/** BetterAuth's JWT payload (identity's jwt plugin: sub, iss, aud, iat, exp plus email and role). */
export const exampleSubjectTokenClaims = {
  sub: exampleUserId,
  iss: betterAuthIssuer,
  aud: betterAuthAudience,
  iat: exampleIat,
  exp: exampleIat + 300,
  email: exampleEmail,
  role: 'user',
}

/** Ed25519 signatures are deterministic, so this example subject token is the same on every run. */
export const exampleSubjectToken = await signExample(exampleBetterAuthKey, {}, exampleSubjectTokenClaims)

/** 32 random-looking bytes, base64url (SPEC §6: at least 256 bits). */
export const exampleRefreshToken = 'q9Vx3Lr7Tb1Nw5Kc8Hs2Mf6Pd0Gj4Ya7Ue9Zi3Oo1Xx'
