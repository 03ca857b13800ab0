// The demo client of the gateway's origin. Its access token lives in this
// module's memory only (never storage, never the DOM); the refresh token is an
// HttpOnly cookie (Path=/oauth) that this code never sees. Everything here is
// same-origin, so the CSP allows no other host.

const CLIENT_ID = 'web'
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'

/** @type {{ accessToken: string, expiresAt: number, scope: string } | null} */
let token = null
let refreshTimer = 0
let refreshCount = 0
/** @type {Promise<boolean> | null} one refresh at a time in this tab */
let refreshing = null
let email = ''

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** OAuth errors ({error, error_description}), problem details ({code, detail}) and BetterAuth errors ({code, message}). */
async function failure(response) {
  let body = {}
  try {
    body = await response.json()
  } catch {}
  const code = body.error ?? body.code ?? `http_${response.status}`
  const message = body.error_description ?? body.detail ?? body.message ?? body.title ?? `${response.status} ${response.statusText}`
  return new ApiError(response.status, code, message)
}

function form(fields) {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), credentials: 'include' }
}

// ---- token-service ---------------------------------------------------------

function useTokenResponse(body) {
  token = { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000, scope: body.scope }
  scheduleRefresh(body.expires_in)
  showTokenInfo()
}

/** BetterAuth session (cookie) → BetterAuth JWT → our access token; the refresh cookie is set on /oauth. */
async function exchange() {
  const jwtResponse = await fetch('/api/auth/token', { credentials: 'include' })
  if (!jwtResponse.ok) throw await failure(jwtResponse)
  const { token: subjectToken } = await jwtResponse.json()
  const response = await fetch('/oauth/token', form({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: JWT_TOKEN_TYPE, client_id: CLIENT_ID }))
  if (!response.ok) throw await failure(response)
  useTokenResponse(await response.json())
}

/** Rotates the refresh cookie for a new access token. Resolves false when there is no live session. */
function refresh() {
  refreshing ??= (async () => {
    try {
      const response = await fetch('/oauth/token', form({ grant_type: 'refresh_token', client_id: CLIENT_ID }))
      if (!response.ok) {
        const error = await failure(response)
        if (error.code === 'invalid_grant' || error.code === 'invalid_request') return false
        throw error
      }
      refreshCount += 1
      useTokenResponse(await response.json())
      return true
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

/** Refresh a little before expiry: a quarter of the lifetime early, at most a minute, at least 5 s from now. */
function scheduleRefresh(expiresIn) {
  clearTimeout(refreshTimer)
  const lead = Math.min(60, expiresIn / 4)
  const delay = Math.max(5, expiresIn - lead) * 1000
  refreshTimer = setTimeout(async () => {
    try {
      if (!(await refresh())) signedOut('Your session has ended. Please sign in again.')
    } catch (error) {
      showError(error)
      // Transient (e.g. 503): try again shortly while the access token may still be valid.
      scheduleRefresh(10)
    }
  }, delay)
}

/** A call to a protected API; one refresh and retry when the access token was refused. */
async function api(path, init = {}, retried = false) {
  if (!token) throw new ApiError(401, 'signed_out', 'Not signed in')
  const headers = { ...(init.headers ?? {}), authorization: `Bearer ${token.accessToken}` }
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { ...init, headers })
  if (response.status === 401 && !retried) {
    if (await refresh()) return api(path, init, true)
    signedOut('Your session has ended. Please sign in again.')
    throw new ApiError(401, 'signed_out', 'Your session has ended')
  }
  if (!response.ok) throw await failure(response)
  return response.status === 204 ? null : response.json()
}

// ---- BetterAuth (identity) ----------------------------------------------------

async function betterAuth(path, body) {
  const response = await fetch(`/api/auth/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'include',
  })
  if (!response.ok) throw await failure(response)
  return response.json()
}

/** The email claim of our own access token, for display only (the page trusts nothing it decodes). */
function tokenEmail() {
  try {
    const payload = token.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    return JSON.parse(atob(payload)).email ?? ''
  } catch {
    return ''
  }
}

// ---- views ---------------------------------------------------------------------

function showError(error) {
  const el = $('error')
  el.textContent = error ? `${error.message}${error.code ? ` (${error.code})` : ''}` : ''
  el.hidden = !error
}

function showStatus(text) {
  $('status').textContent = text
}

function showTokenInfo() {
  const el = $('token-info')
  if (!token) return
  const seconds = Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000))
  el.textContent = `Access token valid for ${seconds} s more, scope "${token.scope}"; refreshed ${refreshCount} time${refreshCount === 1 ? '' : 's'} in this tab.`
  el.dataset.refreshes = String(refreshCount)
}

function signedOut(message) {
  clearTimeout(refreshTimer)
  token = null
  $('app-view').hidden = true
  $('auth-view').hidden = false
  $('todo-list').replaceChildren()
  $('session-list').replaceChildren()
  showStatus(message ?? 'Signed out.')
}

async function signedIn() {
  email = email || tokenEmail()
  $('signed-in-as').textContent = email
  $('auth-view').hidden = true
  $('app-view').hidden = false
  showStatus('Signed in.')
  await Promise.all([loadTodos(), loadSessions()])
}

function button(label, testid, className, onClick) {
  const b = document.createElement('button')
  b.type = 'button'
  b.textContent = label
  b.dataset.testid = testid
  if (className) b.className = className
  b.addEventListener('click', () => run(onClick))
  return b
}

async function loadTodos() {
  const todos = await api('/todos')
  $('todo-list').replaceChildren(...todos.map(todoItem))
}

function todoItem(todo) {
  const li = document.createElement('li')
  li.dataset.testid = 'todo-item'
  li.dataset.id = todo.id
  li.classList.toggle('done', todo.completed)
  const box = document.createElement('input')
  box.type = 'checkbox'
  box.checked = todo.completed
  box.dataset.testid = 'todo-toggle'
  box.setAttribute('aria-label', `completed: ${todo.title}`)
  box.addEventListener('change', () =>
    run(async () => {
      await api(`/todos/${encodeURIComponent(todo.id)}`, { method: 'PATCH', body: JSON.stringify({ completed: box.checked }) })
      await loadTodos()
    }),
  )
  const title = document.createElement('span')
  title.className = 'title'
  title.dataset.testid = 'todo-title-text'
  title.textContent = todo.title
  const remove = button('Delete', 'todo-delete', 'danger', async () => {
    await api(`/todos/${encodeURIComponent(todo.id)}`, { method: 'DELETE' })
    await loadTodos()
  })
  li.append(box, title, remove)
  return li
}

async function loadSessions() {
  const sessions = await api('/sessions')
  $('session-list').replaceChildren(...sessions.map(sessionItem))
}

function sessionItem(session) {
  const li = document.createElement('li')
  li.dataset.testid = 'session-item'
  li.dataset.id = session.id
  li.dataset.current = String(session.current)
  const text = document.createElement('span')
  text.className = 'title'
  const agent = session.user_agent ? session.user_agent.replace(/^(.{60}).+$/, '$1…') : 'unknown client'
  text.textContent = `${session.client_id} · ${agent} · since ${new Date(session.created_at).toLocaleString()}`
  li.append(text)
  if (session.current) {
    const tag = document.createElement('span')
    tag.className = 'tag'
    tag.textContent = 'this browser'
    li.append(tag)
  }
  li.append(
    button('Sign out', 'session-revoke', 'danger', async () => {
      await api(`/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE' })
      if (session.current) return signOutIdentity('This session was signed out.')
      await loadSessions()
    }),
  )
  return li
}

/** Ends the BetterAuth session too, so a reload does not sign straight back in. */
async function signOutIdentity(message) {
  await fetch('/api/auth/sign-out', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'include' }).catch(() => undefined)
  email = ''
  signedOut(message)
}

// ---- wiring --------------------------------------------------------------------

async function run(action) {
  showError(null)
  try {
    await action()
  } catch (error) {
    showError(error)
  }
}

$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const mode = /** @type {HTMLButtonElement | null} */ (event.submitter)?.value ?? 'sign-in'
  const data = new FormData(/** @type {HTMLFormElement} */ (event.target))
  const credentials = { email: String(data.get('email')), password: String(data.get('password')) }
  run(async () => {
    showStatus(mode === 'sign-up' ? 'Signing up…' : 'Signing in…')
    if (mode === 'sign-up') await betterAuth('sign-up/email', { ...credentials, name: String(data.get('name') || credentials.email) })
    else await betterAuth('sign-in/email', credentials)
    email = credentials.email
    await exchange()
    $('password').value = ''
    await signedIn()
  }).then(() => {
    if (!token) showStatus('Not signed in.')
  })
})

$('todo-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = /** @type {HTMLInputElement} */ ($('todo-title'))
  run(async () => {
    await api('/todos', { method: 'POST', body: JSON.stringify({ title: input.value }) })
    input.value = ''
    await loadTodos()
  })
})

$('sign-out').addEventListener('click', () =>
  run(async () => {
    // RFC 7009: the cookie carries the refresh token; the session is revoked and the cookie cleared.
    await fetch('/oauth/revoke', form({ client_id: CLIENT_ID }))
    await signOutIdentity('Signed out.')
  }),
)

$('sign-out-all').addEventListener('click', () =>
  run(async () => {
    await api('/sessions', { method: 'DELETE' })
    await signOutIdentity('Signed out everywhere.')
  }),
)

$('sessions-reload').addEventListener('click', () => run(loadSessions))

setInterval(showTokenInfo, 1000)

// A reload keeps the user signed in through the refresh cookie, and only through
// it: a session revoked elsewhere (sessions panel) stays signed out here.
run(async () => {
  try {
    if (await refresh()) return signedIn()
  } catch (error) {
    signedOut('Not signed in.')
    throw error
  }
  signedOut('Not signed in.')
})
