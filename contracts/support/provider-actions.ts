import { randomBytes } from 'node:crypto'
import { GrantType, TokenTypeUri, type Todo, type TokenResponse } from '@todo-auth/contracts'

/**
 * Provider states are set up the way a client would: over the services' own
 * HTTP APIs, never by writing into Redis or PostgreSQL.
 */

export interface Exchanged {
  accessToken: string
  /** The web client's refresh cookie value, or the body's refresh_token for a body client. */
  refreshToken: string
  body: TokenResponse
}

const gatewayOrigin = 'http://localhost:8080'

/** RFC 8693 exchange at token-service's POST /oauth/token, as client `web` (cookie) or `cli` (body); default audience and scope unless given. */
export async function exchangeAt(tokenServiceUrl: string, subjectToken: string, options: { clientId?: 'web' | 'cli'; scope?: string; audience?: string } = {}): Promise<Exchanged> {
  const clientId = options.clientId ?? 'web'
  const response = await fetch(`${tokenServiceUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(clientId === 'web' ? { origin: gatewayOrigin } : {}) },
    body: new URLSearchParams({
      grant_type: GrantType.tokenExchange,
      subject_token: subjectToken,
      subject_token_type: TokenTypeUri.jwt,
      client_id: clientId,
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    }),
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`token-service exchange answered ${response.status}: ${text}`)
  const body = JSON.parse(text) as TokenResponse
  const cookie = response.headers.getSetCookie().find((c) => /^(__Secure-)?refresh_token=/.test(c))
  const refreshToken = clientId === 'web' ? cookie?.split(';')[0]?.split('=')[1] : body.refresh_token
  if (!refreshToken) throw new Error(`token-service exchange for ${clientId} delivered no refresh token`)
  return { accessToken: body.access_token, refreshToken, body }
}

/** POST /todos at todo-api with a Bearer token. */
export async function createTodoAt(todoApiUrl: string, accessToken: string, todo: { title: string; order?: number }): Promise<Todo> {
  const response = await fetch(`${todoApiUrl}/todos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(todo),
  })
  const text = await response.text()
  if (response.status !== 201) throw new Error(`todo-api POST /todos answered ${response.status}: ${text}`)
  return JSON.parse(text) as Todo
}

/**
 * Signs a new user up at identity (BetterAuth's POST /api/auth/sign-up/email)
 * and returns a fresh BetterAuth JWT from GET /api/auth/token, over HTTP only,
 * as the demo page does. `origin` must be one BetterAuth trusts.
 */
export async function signUpAt(identityUrl: string, origin = gatewayOrigin): Promise<{ userId: string; jwt: string }> {
  const email = `contract-${randomBytes(6).toString('hex')}@example.test`
  const signUp = await fetch(`${identityUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ name: 'Contract User', email, password: randomBytes(18).toString('base64url') }),
  })
  const body = await signUp.text()
  if (signUp.status !== 200) throw new Error(`identity sign-up answered ${signUp.status}: ${body}`)
  const session = signUp.headers.getSetCookie().find((c) => /^(__Secure-)?better-auth\.session_token=/.test(c))
  if (!session) throw new Error('identity sign-up set no session cookie')
  const token = await fetch(`${identityUrl}/api/auth/token`, { headers: { cookie: session.split(';')[0]! } })
  const tokenBody = await token.text()
  if (token.status !== 200) throw new Error(`identity GET /api/auth/token answered ${token.status}: ${tokenBody}`)
  return { userId: (JSON.parse(body) as { user: { id: string } }).user.id, jwt: (JSON.parse(tokenBody) as { token: string }).token }
}
