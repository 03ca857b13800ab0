// Consumer: token-service. Provider: identity (the BetterAuth host).
// What token-service's subject-token verifier relies on: BetterAuth's JWKS
// and the JWT's header and claims (sub, iss, aud, iat, exp, email, role).
// The JWT is opaque to HTTP matching, so its decoded header and claims are a
// message; identity's verification produces it from a JWT BetterAuth issued.
import t, { type Test } from 'tap'
import { MatchersV3 } from '@pact-foundation/pact'
import { decodeJwt } from 'jose'
import { GrantType, TokenTypeUri } from '@todo-auth/contracts'
import { spawnTokenService } from '@todo-auth/testkit'
import { createConsumerPact, Participant } from '../support/consumer-pact.ts'
import { issuedNow, serveJwks } from '../support/example-issuer.ts'
import { exampleBetterAuthKey } from '../support/example-keys.ts'
import { base64url, jsonContentType } from '../support/pact-dsl.ts'
import { MessageDescription, ProviderState } from '../support/provider-states.ts'
import { publishPactWhenPassing } from '../support/publish.ts'
import { signExample } from '../support/token-sign.ts'
import { betterAuthAudience, betterAuthIssuer, exampleSubjectTokenClaims } from './examples.ts'

const { like, regex, integer, eachLike } = MatchersV3
const consumerPact = createConsumerPact(Participant.tokenService, Participant.identity)
const { pact } = consumerPact
const exampleJwk = exampleBetterAuthKey.publicJwk

/** BetterAuth's JWT as token-service needs it (SPEC §2; DEFAULTS: EdDSA, our iss and aud). */
const subjectTokenMessage = {
  header: { alg: 'EdDSA', kid: like(exampleJwk.kid) },
  claims: {
    sub: like(exampleSubjectTokenClaims.sub),
    iss: betterAuthIssuer,
    aud: betterAuthAudience,
    iat: integer(exampleSubjectTokenClaims.iat),
    exp: integer(exampleSubjectTokenClaims.exp),
    email: regex('^[^@\\s]+@[^@\\s]+$', exampleSubjectTokenClaims.email),
    // One role name or several, comma-separated (BetterAuth's admin plugin); token-service maps it to `roles`.
    role: regex('^[A-Za-z0-9][A-Za-z0-9_.:-]*(,[A-Za-z0-9][A-Za-z0-9_.:-]*)*$', exampleSubjectTokenClaims.role),
  },
}

/**
 * The consumer under test: token-service itself, as a process (no test imports a
 * service's source), trusting the BetterAuth whose JWKS is at `jwksUrl`, on its
 * in-process store. What it makes of a subject token is read from the access token
 * a token exchange (client `cli`) answers with.
 */
async function tokenServiceTrusting(t: Test, jwksUrl: string) {
  const service = await spawnTokenService({
    identity: { jwksUrl, issuer: betterAuthIssuer, audience: betterAuthAudience, algorithms: ['EdDSA'] },
    // As for the providers (support/provider-stack.ts): token-service's own tests measure its coverage.
    env: { LOG_LEVEL: 'warn', NODE_V8_COVERAGE: undefined },
  })
  t.teardown(() => service.stop())
  return {
    async exchange(subjectToken: string) {
      const response = await fetch(service.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: GrantType.tokenExchange, subject_token: subjectToken, subject_token_type: TokenTypeUri.jwt, client_id: 'cli' }),
      })
      const body = (await response.json()) as { access_token?: string; error?: string }
      if (!body.access_token) throw new Error(`the exchange was refused (${response.status} ${body.error})`)
      const { sub, email, roles } = decodeJwt(body.access_token)
      return { sub, email, roles }
    },
  }
}

t.test("token-service fetches BetterAuth's JWKS and accepts a JWT signed with a published key", async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a request for BetterAuth’s signing keys')
    .withRequest('GET', '/api/auth/jwks', (b) => b.headers({ accept: 'application/jwk-set+json, application/json' }))
    .willRespondWith(200, (b) =>
      b.headers({ 'Content-Type': jsonContentType }).jsonBody({
        keys: eachLike({ kty: 'OKP', crv: 'Ed25519', x: base64url(exampleJwk.x!, 43), kid: like(exampleJwk.kid), alg: 'EdDSA' }),
      }),
    )
    .executeTest(async (server) => {
      const tokenService = await tokenServiceTrusting(t, `${server.url}/api/auth/jwks`)
      const subjectToken = await signExample(exampleBetterAuthKey, {}, issuedNow(exampleSubjectTokenClaims))
      const identity = await tokenService.exchange(subjectToken)
      t.same(identity, { sub: exampleSubjectTokenClaims.sub, email: exampleSubjectTokenClaims.email, roles: ['user'] }, 'sub, email and roles come from the JWT')
    })
})

t.test('token-service accepts a BetterAuth JWT with exactly this header and these claims', async (t) => {
  await pact
    .addAsynchronousInteraction()
    .given(ProviderState.userSignedUp)
    .expectsToReceive(MessageDescription.betterAuthJwt, (b) => b.withJSONContent(subjectTokenMessage))
    .executeTest(async (message) => {
      const { header, claims } = message.contents.content as { header: Record<string, unknown>; claims: typeof exampleSubjectTokenClaims }
      const tokenService = await tokenServiceTrusting(t, await serveJwks(t, { keys: [exampleJwk] }, '/api/auth/jwks'))
      const identity = await tokenService.exchange(await signExample(exampleBetterAuthKey, header, issuedNow(claims)))
      t.equal(identity.sub, claims.sub, 'sub is the user id')
      t.equal(identity.email, claims.email, 'email is taken as is')
      t.same(identity.roles, ['user'], 'role maps to roles')
    })
})

publishPactWhenPassing(t, consumerPact)
