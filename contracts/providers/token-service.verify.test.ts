// Provider: token-service, verified against the committed pacts of its
// consumers todo-api (JWKS, metadata, access-token claims) and web (token
// endpoint, refresh cookie, revocation, sessions). The real token-service
// process on real Redis (its own key prefix) with the real identity
// (BetterAuth on its own PostgreSQL schema) behind it.
import t from 'tap'
import { Participant } from '../support/consumer-pact.ts'
import { startIdentityProvider, startTokenServiceProvider } from '../support/provider-stack.ts'
import { verifyProvider } from '../support/verify-provider.ts'
import { tokenServiceStates } from './token-service.states.ts'

t.test("token-service honours the pacts of todo-api and web", async (t) => {
  const identity = await startIdentityProvider(t)
  const tokenService = await startTokenServiceProvider(t, identity)
  await verifyProvider({
    provider: Participant.tokenService,
    consumers: [Participant.todoApi, Participant.web],
    providerBaseUrl: tokenService.url,
    ...tokenServiceStates(identity.url, tokenService.url),
  })
  t.pass('every interaction of contracts/pacts/todo-api-token-service.json and web-token-service.json holds')
})
