// @ts-check
// Every HTTP call the demo page makes to the gateway, and how it reads the
// answers. No state and no DOM: the page passes the access token in, the
// browser keeps the cookies. The Pact consumer tests (contracts/consumers/web.*)
// run this very module in Node against the Pact mock server, with a base URL
// and a fetch that does what a browser does (cookie jar, Origin).

export const CLIENT_ID = 'web'
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const REFRESH_TOKEN = 'refresh_token'
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'

/**
 * RFC 6749 §5.1 / RFC 8693 §2.2.1 as the page reads it.
 * @typedef {{ access_token: string, token_type: string, expires_in: number, scope: string, issued_token_type?: string }} TokenResponse
 */
/** @typedef {{ id: string, title: string, completed: boolean, order: number | null, url: string, created_at: string, updated_at: string }} Todo */
/** @typedef {{ id: string, client_id: string, created_at: string, last_used_at: string, expires_at: string, user_agent: string | null, current: boolean }} Session */
/** @typedef {{ email: string, password: string }} Credentials */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/**
 * OAuth errors ({error, error_description}), problem details ({code, detail}) and BetterAuth errors ({code, message}).
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
export async function failure(response) {
  /** @type {Record<string, unknown>} */
  let body = {}
  try {
    body = /** @type {Record<string, unknown>} */ (await response.json())
  } catch {}
  const code = String(body.error ?? body.code ?? `http_${response.status}`)
  const message = String(body.error_description ?? body.detail ?? body.message ?? body.title ?? `${response.status} ${response.statusText}`)
  return new ApiError(response.status, code, message)
}

/**
 * @param {Record<string, string>} fields
 * @returns {RequestInit}
 */
function form(fields) {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), credentials: 'include' }
}

/**
 * @param {{ baseUrl?: string, fetch?: typeof fetch }} [options] baseUrl: '' (the page's own origin); fetch: the browser's
 */
export function createApiClient({ baseUrl = '', fetch: send = (input, init) => fetch(input, init) } = {}) {
  /**
   * @param {string} path
   * @param {RequestInit} init
   */
  const request = (path, init) => send(`${baseUrl}${path}`, init)

  /**
   * @param {string} path
   * @param {RequestInit} init
   * @returns {Promise<any>} the body; the callers' JSDoc names its shape
   */
  async function json(path, init) {
    const response = await request(path, init)
    if (!response.ok) throw await failure(response)
    return response.json()
  }

  /**
   * @param {string} path below /api/auth/
   * @param {object} body
   */
  const betterAuth = (path, body) => json(`/api/auth/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'include' })

  /**
   * A Bearer call to a protected API with an optional JSON body; null for 204; ApiError otherwise (401 included: the session decides).
   * @param {string} accessToken
   * @param {string} path
   * @param {{ method?: string, body?: unknown }} [init]
   * @returns {Promise<any>}
   */
  async function authorized(accessToken, path, { method = 'GET', body } = {}) {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${accessToken}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await request(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    if (!response.ok) throw await failure(response)
    return response.status === 204 ? null : response.json()
  }

  /** @param {string} id */
  const todoPath = (id) => `/todos/${encodeURIComponent(id)}`

  return {
    /** @param {Credentials & { name: string }} account */
    signUp: (account) => betterAuth('sign-up/email', account),
    /** @param {Credentials} credentials */
    signIn: (credentials) => betterAuth('sign-in/email', credentials),
    /** Ends the BetterAuth session; never fails (a reload must not sign straight back in, but the page signs out anyway). */
    signOut: () =>
      request('/api/auth/sign-out', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'include' }).then(
        () => undefined,
        () => undefined,
      ),
    /**
     * The BetterAuth JWT of the session cookie.
     * @returns {Promise<string>}
     */
    betterAuthToken: async () => (await json('/api/auth/token', { credentials: 'include' })).token,

    /**
     * BetterAuth JWT → our access token; the refresh token arrives as an HttpOnly cookie on /oauth.
     * @param {string} subjectToken
     * @returns {Promise<TokenResponse>}
     */
    exchange: (subjectToken) => json('/oauth/token', form({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: JWT_TOKEN_TYPE, client_id: CLIENT_ID })),

    /**
     * Rotates the refresh cookie for a new access token; false when there is no live session.
     * @returns {Promise<TokenResponse | false>}
     */
    async refresh() {
      const response = await request('/oauth/token', form({ grant_type: REFRESH_TOKEN, client_id: CLIENT_ID }))
      if (response.ok) return /** @type {Promise<TokenResponse>} */ (response.json())
      const error = await failure(response)
      if (error.code === 'invalid_grant' || error.code === 'invalid_request') return false
      throw error
    },

    /**
     * RFC 7009: the cookie carries the refresh token; the session is revoked and the cookie cleared. The body is not read.
     * @returns {Promise<number>} the status
     */
    revoke: async () => (await request('/oauth/revoke', form({ client_id: CLIENT_ID }))).status,

    /**
     * @param {string} accessToken
     * @returns {Promise<Todo[]>}
     */
    listTodos: (accessToken) => authorized(accessToken, '/todos'),
    /**
     * @param {string} accessToken
     * @param {string} title
     * @returns {Promise<Todo>}
     */
    createTodo: (accessToken, title) => authorized(accessToken, '/todos', { method: 'POST', body: { title } }),
    /**
     * @param {string} accessToken
     * @param {string} id
     * @param {{ completed: boolean }} changes
     * @returns {Promise<Todo>}
     */
    updateTodo: (accessToken, id, changes) => authorized(accessToken, todoPath(id), { method: 'PATCH', body: changes }),
    /**
     * @param {string} accessToken
     * @param {string} id
     * @returns {Promise<null>}
     */
    deleteTodo: (accessToken, id) => authorized(accessToken, todoPath(id), { method: 'DELETE' }),

    /**
     * @param {string} accessToken
     * @returns {Promise<Session[]>}
     */
    listSessions: (accessToken) => authorized(accessToken, '/sessions'),
    /**
     * @param {string} accessToken
     * @param {string} id
     * @returns {Promise<null>}
     */
    revokeSession: (accessToken, id) => authorized(accessToken, `/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    /**
     * @param {string} accessToken
     * @returns {Promise<null>}
     */
    revokeAllSessions: (accessToken) => authorized(accessToken, '/sessions', { method: 'DELETE' }),
  }
}

/** @typedef {ReturnType<typeof createApiClient>} ApiClient */
