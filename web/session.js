// @ts-check
// The signed-in state of this tab: the access token in this module's memory
// only (never storage, never the DOM; the refresh token is an HttpOnly cookie
// this code never sees), the refresh before expiry, one refresh at a time, and
// one refresh-and-retry when an API refuses the access token.

import { ApiError } from './api-client.js'

/** @typedef {import('./api-client.js').ApiClient} ApiClient */
/** @typedef {import('./api-client.js').TokenResponse} TokenResponse */
/** @typedef {{ accessToken: string, expiresAt: number, scope: string }} AccessToken */

const sessionEnded = 'Your session has ended. Please sign in again.'

/**
 * @param {ApiClient} client
 * @param {{ changed: () => void, ended: (message: string) => void, backgroundError: (error: unknown) => void }} on
 *   changed: a new access token; ended: the refresh cookie no longer works; backgroundError: a scheduled refresh failed (it is retried)
 */
export function createSession(client, on) {
  /** @type {AccessToken | null} */
  let token = null
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer
  let refreshCount = 0
  /** @type {Promise<boolean> | null} one refresh at a time in this tab */
  let refreshing = null

  /** @param {TokenResponse} body */
  function use(body) {
    token = { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000, scope: body.scope }
    scheduleRefresh(body.expires_in)
    on.changed()
  }

  /**
   * Rotates the refresh cookie for a new access token. Resolves false when there is no live session.
   * @returns {Promise<boolean>}
   */
  function refresh() {
    refreshing ??= (async () => {
      try {
        const body = await client.refresh()
        if (!body) return false
        refreshCount += 1
        use(body)
        return true
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  /**
   * Refresh a little before expiry: a quarter of the lifetime early, at most a minute, at least 5 s from now.
   * @param {number} expiresIn seconds
   */
  function scheduleRefresh(expiresIn) {
    clearTimeout(refreshTimer)
    const lead = Math.min(60, expiresIn / 4)
    const delay = Math.max(5, expiresIn - lead) * 1000
    refreshTimer = setTimeout(async () => {
      try {
        if (!(await refresh())) on.ended(sessionEnded)
      } catch (error) {
        on.backgroundError(error)
        // Transient (e.g. 503): try again shortly while the access token may still be valid.
        scheduleRefresh(10)
      }
    }, delay)
  }

  /**
   * A call to a protected API with the access token; one refresh and retry when the token was refused.
   * @template T
   * @param {(accessToken: string) => Promise<T>} call
   * @returns {Promise<T>}
   */
  async function authorized(call, retried = false) {
    if (!token) throw new ApiError(401, 'signed_out', 'Not signed in')
    try {
      return await call(token.accessToken)
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || retried) throw error
    }
    if (await refresh()) return authorized(call, true)
    on.ended(sessionEnded)
    throw new ApiError(401, 'signed_out', 'Your session has ended')
  }

  /** The email claim of our own access token, for display only (the page trusts nothing it decodes). */
  function email() {
    try {
      const payload = (token?.accessToken.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')
      return JSON.parse(atob(payload)).email ?? ''
    } catch {
      return ''
    }
  }

  return {
    /** BetterAuth session (cookie) → BetterAuth JWT → our access token; the refresh cookie is set on /oauth. */
    async exchange() {
      use(await client.exchange(await client.betterAuthToken()))
    },
    refresh,
    authorized,
    email,
    /** Forgets the access token and stops refreshing. */
    end() {
      clearTimeout(refreshTimer)
      token = null
    },
    get signedIn() {
      return token !== null
    },
    /** What the page shows about the token: null when signed out. */
    info() {
      return token && { expiresAt: token.expiresAt, scope: token.scope, refreshCount }
    },
  }
}

/** @typedef {ReturnType<typeof createSession>} Session */
