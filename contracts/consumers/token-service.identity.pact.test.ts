// Consumer: token-service. Provider: identity (the BetterAuth host).
// What token-service's subject-token verifier relies on: BetterAuth's JWKS
// and the JWT's header and claims (sub, iss, aud, iat, exp, email, role).
// The JWT is opaque to HTTP matching, so its decoded header and claims are a
// message; identity's verification produces it from a JWT BetterAuth issued.
import t from 'tap'
import { MatchersV3 } from '@pact-foundation/pact'
import { createConsumerPact, Participant } from '../support/consumer-pact.ts'
import { exampleBetterAuthKey } from '../support/example-keys.ts'
import { base64url, jsonContentType } from '../support/pact-dsl.ts'
import { MessageDescription, ProviderState } from '../support/provider-states.ts'
import { publishPactWhenPassing } from '../support/publish.ts'
import { signExample } from '../support/token-sign.ts'
import { betterAuthAudience, betterAuthIssuer, exampleNowMs, exampleSubjectToken, exampleSubjectTokenClaims } from './examples.ts'
// The consumer under test is token-service's own subject-token verifier and
// configuration (test code only; no service imports another's source).
import { loadConfig } from '../../services/token-service/src/config.ts'
import { createSubjectTokenVerifier } from '../../services/token-service/src/better-auth/verify-subject-token.ts'

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

/** token-service's own configuration with BetterAuth's JWKS at `jwksUrl`, everything else at its defaults. */
function subjectTokenVerifier(jwksUrl: string, nowMs: number, fetchImpl?: typeof fetch) {
  const config = loadConfig({ BETTER_AUTH_JWKS_URL: jwksUrl, LOG_LEVEL: 'silent' })
  return createSubjectTokenVerifier(config, { clock: { now: () => nowMs }, ...(fetchImpl ? { fetch: fetchImpl } : {}) })
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
      const verifier = subjectTokenVerifier(`${server.url}/api/auth/jwks`, exampleNowMs)
      const identity = await verifier.verify(exampleSubjectToken)
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
      const jwks = JSON.stringify({ keys: [exampleJwk] })
      const serveExampleKeys: typeof fetch = async () => new Response(jwks, { headers: { 'content-type': 'application/json' } })
      const verifier = subjectTokenVerifier('http://identity.invalid/api/auth/jwks', (claims.iat + 60) * 1000, serveExampleKeys)
      const identity = await verifier.verify(await signExample(exampleBetterAuthKey, header, claims))
      t.equal(identity.sub, claims.sub, 'sub is the user id')
      t.equal(identity.email, claims.email, 'email is taken as is')
      t.same(identity.roles, ['user'], 'role maps to roles')
    })
})

publishPactWhenPassing(t, consumerPact)
