import { decodeIssuedJwt } from '../../support/decode-jwt.ts'
import { exchangeAt, signUpAt } from '../../support/provider-actions.ts'
import { MessageDescription, ProviderState } from '../../support/provider-states.ts'
import type { ProviderStates } from '../../support/verify-provider.ts'
import { required, type ProviderUrls } from './provider-urls.ts'

/**
 * token-service's provider states and its access-token message, set up
 * through the real services: a user signs up at identity (BetterAuth's HTTP
 * API), the BetterAuth JWT is exchanged at token-service's POST /oauth/token.
 * Each state gets a fresh user.
 */
export function tokenServiceStates(urls: ProviderUrls): ProviderStates {
  const tokenServiceUrl = required(urls, 'tokenServiceUrl')
  const freshSubjectToken = async () => (await signUpAt(urls.identityUrl)).jwt
  let issuedAccessToken: string | undefined
  return {
    stateHandlers: {
      [ProviderState.userSignedInToBetterAuth]: async () => ({ subjectToken: await freshSubjectToken() }),
      [ProviderState.userHasWebSession]: async () => {
        const { accessToken, refreshToken } = await exchangeAt(tokenServiceUrl, await freshSubjectToken())
        return { accessToken, refreshToken }
      },
      [ProviderState.accessTokenIssuedForTodoApi]: async () => {
        issuedAccessToken = (await exchangeAt(tokenServiceUrl, await freshSubjectToken())).accessToken
      },
    },
    messageProviders: {
      // The header and claims of the token token-service issued above, its signature checked against the published JWKS.
      [MessageDescription.accessTokenForTodoApi]: async () => {
        if (!issuedAccessToken) throw new Error(`provider state "${ProviderState.accessTokenIssuedForTodoApi}" was not set up`)
        return decodeIssuedJwt(issuedAccessToken, `${tokenServiceUrl}/.well-known/jwks.json`)
      },
    },
  }
}
