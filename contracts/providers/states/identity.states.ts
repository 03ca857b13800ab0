import { decodeIssuedJwt } from '../../support/decode-jwt.ts'
import { signUpAt } from '../../support/provider-actions.ts'
import { MessageDescription, ProviderState } from '../../support/provider-states.ts'
import type { ProviderStates } from '../../support/verify-provider.ts'
import type { ProviderUrls } from './provider-urls.ts'

/**
 * identity's provider state and its BetterAuth-JWT message: a user signs up
 * through BetterAuth's HTTP API, and the message is the decoded header and
 * claims of the JWT BetterAuth then issues at GET /api/auth/token.
 */
export function identityStates({ identityUrl }: ProviderUrls): ProviderStates {
  let jwt: string | undefined
  return {
    stateHandlers: {
      [ProviderState.userSignedUp]: async () => {
        jwt = (await signUpAt(identityUrl)).jwt
      },
    },
    messageProviders: {
      [MessageDescription.betterAuthJwt]: async () => {
        if (!jwt) throw new Error(`provider state "${ProviderState.userSignedUp}" was not set up`)
        return decodeIssuedJwt(jwt, `${identityUrl}/api/auth/jwks`)
      },
    },
  }
}
