import { GrantType, TokenTypeUri, type TokenResponse } from '@todo-auth/contracts'

/**
 * The HTTP side of the demo web client (web/app.js) as a module the consumer
 * tests can run: the same requests (form bodies, client `web`, the refresh
 * token only as a cookie, Bearer calls with JSON bodies) and the same reading
 * of answers (OAuth `error`/`error_description`, problem `code`/`detail`).
 * web/app.js is a browser script with the DOM mixed in, so it cannot be
 * imported here; when it changes what it sends or reads, change this module
 * and the pacts with it (docs/contracts.md).
 */

export const webClientId = 'web'
/** The gateway's origin: a browser's POST from the demo page carries it (SPEC §4 CSRF check). */
export const webOrigin = 'http://localhost:8080'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** app.js failure(): OAuth errors, problem details, anything else by status. */
export async function failure(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {}
  try {
    body = (await response.json()) as Record<string, unknown>
  } catch {}
  const code = String(body.error ?? body.code ?? `http_${response.status}`)
  const message = String(body.error_description ?? body.detail ?? body.title ?? `${response.status} ${response.statusText}`)
  return new ApiError(response.status, code, message)
}

/** What the browser keeps of a Set-Cookie: its value and the attributes that decide when it is sent. */
export interface StoredCookie {
  name: string
  value: string
  attributes: Map<string, string>
}

export function parseSetCookie(header: string): StoredCookie {
  const [pair = '', ...rest] = header.split(';')
  const separator = pair.indexOf('=')
  const attributes = new Map<string, string>()
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=')
    attributes.set(key.toLowerCase(), value.join('='))
  }
  return { name: pair.slice(0, separator).trim(), value: pair.slice(separator + 1).trim(), attributes }
}

/** The token-service half: exchange, refresh and revoke with the refresh cookie, as a browser would send them. */
export class WebTokenClient {
  readonly baseUrl: string
  /** The refresh cookie as the browser holds it (null: none). */
  cookie: StoredCookie | null = null

  constructor(baseUrl: string, cookie: StoredCookie | null = null) {
    this.baseUrl = baseUrl
    this.cookie = cookie
  }

  private async post(path: string, fields: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { origin: webOrigin, 'content-type': 'application/x-www-form-urlencoded' }
    if (this.cookie) headers.cookie = `${this.cookie.name}=${this.cookie.value}`
    const response = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers, body: new URLSearchParams(fields) })
    const setCookie = response.headers.get('set-cookie')
    if (setCookie) {
      const cookie = parseSetCookie(setCookie)
      this.cookie = cookie.value === '' || cookie.attributes.get('max-age') === '0' ? null : cookie
    }
    return response
  }

  /** BetterAuth JWT → access token; the refresh token arrives as the cookie. */
  async exchange(subjectToken: string): Promise<TokenResponse> {
    const response = await this.post('/oauth/token', {
      grant_type: GrantType.tokenExchange,
      subject_token: subjectToken,
      subject_token_type: TokenTypeUri.jwt,
      client_id: webClientId,
    })
    if (!response.ok) throw await failure(response)
    return (await response.json()) as TokenResponse
  }

  /** Rotates the cookie for a new access token; false when there is no live session (app.js signs out). */
  async refresh(): Promise<TokenResponse | false> {
    const response = await this.post('/oauth/token', { grant_type: GrantType.refreshToken, client_id: webClientId })
    if (!response.ok) {
      const error = await failure(response)
      if (error.code === 'invalid_grant' || error.code === 'invalid_request') return false
      throw error
    }
    return (await response.json()) as TokenResponse
  }

  /** RFC 7009 with the cookie; the answer's body is not read. */
  async revoke(): Promise<number> {
    return (await this.post('/oauth/revoke', { client_id: webClientId })).status
  }
}

/** app.js api(): a Bearer call with an optional JSON body; null for 204; ApiError otherwise. */
export async function callApi<T>(baseUrl: string, authorization: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T | null> {
  const headers: Record<string, string> = { authorization }
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  })
  if (!response.ok) throw await failure(response)
  return response.status === 204 ? null : ((await response.json()) as T)
}
