// Provider: token-service, verified against the committed pacts of its
// consumers todo-api (JWKS, metadata, access-token header and claims) and web
// (token endpoint, refresh cookie, revocation, sessions). The real
// token-service process on real Redis (its own key prefix), with the real
// identity (BetterAuth on its own PostgreSQL schema) behind it. States:
// providers/states/token-service.states.ts.
import t from 'tap'
import { Participant } from '../support/participants.ts'
import { startIdentityProvider, startTokenServiceProvider } from '../support/provider-stack.ts'
import { assertHonoured, verifyInChild } from '../support/verify-in-child.ts'

t.test('token-service honours the pacts of todo-api and web', async (t) => {
  const identity = await startIdentityProvider(t)
  const tokenService = await startTokenServiceProvider(t, identity)
  const outcome = await verifyInChild({
    provider: Participant.tokenService,
    consumers: [Participant.todoApi, Participant.web],
    providerBaseUrl: tokenService.url,
    urls: { identityUrl: identity.url, tokenServiceUrl: tokenService.url },
  })
  assertHonoured(t, outcome, 'every interaction of contracts/pacts/todo-api-token-service.json and web-token-service.json holds')
})
