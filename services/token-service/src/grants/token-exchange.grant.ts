import { TokenTypeUri } from '@todo-auth/contracts'
import { InvalidRequest } from '../errors.ts'
import { userAgentOf, type Grant } from './grant.ts'
import { required } from './read-params.ts'
import { selectAudience } from './select-audience.ts'
import { selectScope } from './select-scope.ts'

/**
 * RFC 8693 token exchange (SPEC §3.1): a BetterAuth JWT in, our access token
 * and a new session's refresh token out. Cheap request checks come first;
 * the subject token is verified only for a well-formed request.
 */
export const exchangeToken: Grant = async (context, client, params, request) => {
  // RFC 8693 §2.1: subject_token and subject_token_type are REQUIRED.
  const subjectToken = required(params, 'subject_token')
  const subjectTokenType = required(params, 'subject_token_type')
  if (subjectTokenType !== TokenTypeUri.jwt) throw new InvalidRequest(`subject_token_type must be ${TokenTypeUri.jwt}`)
  const requestedType = params.get('requested_token_type')
  if (requestedType !== undefined && requestedType !== TokenTypeUri.accessToken) {
    throw new InvalidRequest(`requested_token_type must be ${TokenTypeUri.accessToken}`)
  }
  // Delegation (RFC 8693 §2.1 actor_token) is not offered.
  if (params.has('actor_token') || params.has('actor_token_type')) throw new InvalidRequest('actor_token is not supported')

  const audience = selectAudience(params, client.audiences, client.audiences[0]!)
  const scope = selectScope(params.get('scope'), client.scopes)

  const identity = await context.upstream.verify(subjectToken)
  // Fail before a session exists when there is no key to sign with (503).
  context.accessTokens.assertReady()
  const { session, refreshToken } = await context.sessions.start({
    identity,
    clientId: client.clientId,
    scope,
    audience,
    userAgent: userAgentOf(request),
  })
  const accessToken = await context.accessTokens.issue({ ...session, scope })
  return {
    accessToken: accessToken.token,
    expiresIn: accessToken.expiresIn,
    scope,
    refreshToken,
    session,
    issuedTokenType: TokenTypeUri.accessToken,
  }
}
