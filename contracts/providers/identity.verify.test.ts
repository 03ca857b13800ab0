// Provider: identity (BetterAuth), verified against token-service's pact.
// The real identity process on its own PostgreSQL schema; the provider state
// signs a user up through BetterAuth's HTTP API, and the message is the
// decoded header and claims of the JWT BetterAuth then issues at /api/auth/token.
import t from 'tap'
import type { SignedUpUser } from '@todo-auth/testkit'
import { Participant } from '../support/consumer-pact.ts'
import { decodeIssuedJwt } from '../support/decode-jwt.ts'
import { startIdentityProvider } from '../support/provider-stack.ts'
import { MessageDescription, ProviderState } from '../support/provider-states.ts'
import { verifyProvider } from '../support/verify-provider.ts'

t.test("identity honours token-service's pact (BetterAuth JWKS and JWT claims)", async (t) => {
  const identity = await startIdentityProvider(t)
  let user: SignedUpUser | undefined
  await verifyProvider({
    provider: Participant.identity,
    consumers: [Participant.tokenService],
    providerBaseUrl: identity.url,
    stateHandlers: {
      [ProviderState.userSignedUp]: async () => {
        user = await identity.signUp()
      },
    },
    messageProviders: {
      [MessageDescription.betterAuthJwt]: async () => {
        if (!user) throw new Error(`provider state "${ProviderState.userSignedUp}" was not set up`)
        return decodeIssuedJwt(await identity.getJwt(user.cookie), identity.jwksUrl)
      },
    },
  })
  t.pass('every interaction of contracts/pacts/token-service-identity.json holds')
})
