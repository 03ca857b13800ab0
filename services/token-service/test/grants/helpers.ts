import type { StartedIdentity } from '@todo-auth/testkit'
import type { FastifyInstance, InjectOptions } from 'fastify'

export const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const jwtType = 'urn:ietf:params:oauth:token-type:jwt'
export const webOrigin = 'http://localhost:8080'

/** token-service settings pointing at a real BetterAuth started by startIdentity(). */
export function identityEnv(identity: StartedIdentity): Record<string, string> {
  return {
    BETTER_AUTH_JWKS_URL: identity.jwksUrl,
    BETTER_AUTH_ISSUER: identity.issuer,
    BETTER_AUTH_AUDIENCE: identity.audience,
    BETTER_AUTH_ALGORITHMS: identity.algorithms.join(','),
  }
}

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString()
}

type Headers = Record<string, string>

/** POST a form to an OAuth endpoint. */
export function post(app: FastifyInstance, url: string, params: Record<string, string>, headers: Headers = {}) {
  const options: InjectOptions = {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form(params),
  }
  return app.inject(options)
}

export function exchange(app: FastifyInstance, subjectToken: string, params: Record<string, string> = {}, headers: Headers = {}) {
  return post(app, '/oauth/token', { grant_type: exchangeGrant, subject_token: subjectToken, subject_token_type: jwtType, client_id: 'cli', ...params }, headers)
}

export function refresh(app: FastifyInstance, refreshToken: string, params: Record<string, string> = {}, headers: Headers = {}) {
  return post(app, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'cli', ...params }, headers)
}

/** The `name=value` of a Set-Cookie header, or undefined. */
export function setCookieHeaders(headers: Record<string, unknown>): string[] {
  const value = headers['set-cookie']
  return value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [String(value)]
}
