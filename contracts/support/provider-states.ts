/**
 * Provider states named in the pacts, in one place so a consumer test and the
 * provider verification that sets the state up cannot drift apart by a typo.
 * Each provider sets its states up through the services' own HTTP APIs
 * (sign-up at identity, exchange at token-service, POST /todos at todo-api),
 * and returns the values the interactions inject (`fromProviderState`).
 */
export const ProviderState = {
  /** identity. */
  userSignedUp: 'a user has signed up with email and password',
  /** token-service. Returns `{ subjectToken }`: a fresh BetterAuth JWT. */
  userSignedInToBetterAuth: 'a user has signed in to BetterAuth',
  /** token-service. Returns `{ refreshToken, accessToken }`: the value of the web client's refresh cookie and its access token. */
  userHasWebSession: 'a user has a web session',
  /** token-service (message). */
  accessTokenIssuedForTodoApi: 'a user has exchanged a BetterAuth JWT for an access token for todo-api',
  /** todo-api. Returns `{ accessToken }` with both todo scopes. */
  userSignedIn: 'a signed-in user with todos:read and todos:write',
  /** todo-api. Returns `{ accessToken, todoId }`. */
  userHasTodo: 'a signed-in user has a todo',
  /** todo-api. Returns `{ accessToken }` of a token with todos:read only. */
  userCanOnlyRead: 'a signed-in user whose token has only todos:read',
} as const
export type ProviderState = (typeof ProviderState)[keyof typeof ProviderState]

/** Descriptions of the message interactions; a provider's message handler is looked up by them. */
export const MessageDescription = {
  /** token-service → todo-api. */
  accessTokenForTodoApi: 'an access token for todo-api, decoded',
  /** identity → token-service. */
  betterAuthJwt: 'a BetterAuth JWT for the user, decoded',
} as const
