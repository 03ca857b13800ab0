// Provider: identity (BetterAuth), verified against token-service's
// committed pact: the BetterAuth JWKS, and the JWT's header and claims as a
// message built from a JWT BetterAuth really issued (states:
// providers/states/identity.states.ts). The real identity process on its own
// PostgreSQL schema.
import t from 'tap'
import { Participant } from '../support/participants.ts'
import { startIdentityProvider } from '../support/provider-stack.ts'
import { assertHonoured, verifyInChild } from '../support/verify-in-child.ts'

t.test("identity honours token-service's pact (BetterAuth JWKS and JWT claims)", async (t) => {
  const identity = await startIdentityProvider(t)
  const outcome = await verifyInChild({
    provider: Participant.identity,
    consumers: [Participant.tokenService],
    providerBaseUrl: identity.url,
    urls: { identityUrl: identity.url },
  })
  assertHonoured(t, outcome, 'every interaction of contracts/pacts/token-service-identity.json holds')
})
