// @ts-check
// What the page shows and what its controls do: the sign-in form, the todo
// list and the sessions panel. HTTP goes through the api client, the access
// token through the session.

/** @typedef {import('./api-client.js').ApiClient} ApiClient */
/** @typedef {import('./api-client.js').Todo} Todo */
/** @typedef {import('./api-client.js').Session} SessionRow */
/** @typedef {import('./session.js').Session} Session */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

/**
 * @param {{ client: ApiClient, session: Session }} deps
 */
export function createViews({ client, session }) {
  let email = ''

  /** @param {any} error an ApiError, a fetch failure, or null to clear */
  function showError(error) {
    const el = $('error')
    el.textContent = error ? `${error.message}${error.code ? ` (${error.code})` : ''}` : ''
    el.hidden = !error
  }

  /** @param {string} text */
  function showStatus(text) {
    $('status').textContent = text
  }

  function showTokenInfo() {
    const info = session.info()
    if (!info) return
    const el = $('token-info')
    const seconds = Math.max(0, Math.round((info.expiresAt - Date.now()) / 1000))
    const count = info.refreshCount
    el.textContent = `Access token valid for ${seconds} s more, scope "${info.scope}"; refreshed ${count} time${count === 1 ? '' : 's'} in this tab.`
    el.dataset.refreshes = String(count)
  }

  /** @param {string} [message] */
  function signedOut(message) {
    session.end()
    $('app-view').hidden = true
    $('auth-view').hidden = false
    $('todo-list').replaceChildren()
    $('session-list').replaceChildren()
    showStatus(message ?? 'Signed out.')
  }

  async function signedIn() {
    email = email || session.email()
    $('signed-in-as').textContent = email
    $('auth-view').hidden = true
    $('app-view').hidden = false
    showStatus('Signed in.')
    await Promise.all([loadTodos(), loadSessions()])
  }

  /** @param {() => Promise<unknown>} action */
  async function run(action) {
    showError(null)
    try {
      await action()
    } catch (error) {
      showError(error)
    }
  }

  /**
   * @param {string} label
   * @param {string} testid
   * @param {string} className
   * @param {() => Promise<unknown>} onClick
   * @param {string} accessibleName unique on the page (several items have the same visible label)
   */
  function button(label, testid, className, onClick, accessibleName) {
    const b = document.createElement('button')
    b.type = 'button'
    b.textContent = label
    b.setAttribute('aria-label', accessibleName)
    b.dataset.testid = testid
    if (className) b.className = className
    b.addEventListener('click', () => run(onClick))
    return b
  }

  async function loadTodos() {
    const todos = await session.authorized((token) => client.listTodos(token))
    $('todo-list').replaceChildren(...todos.map(todoItem))
  }

  /** @param {Todo} todo */
  function todoItem(todo) {
    const li = document.createElement('li')
    li.dataset.testid = 'todo-item'
    li.dataset.id = todo.id
    li.classList.toggle('done', todo.completed)
    const box = document.createElement('input')
    box.type = 'checkbox'
    box.checked = todo.completed
    box.dataset.testid = 'todo-toggle'
    box.setAttribute('aria-label', `Done: ${todo.title}`)
    box.addEventListener('change', () =>
      run(async () => {
        await session.authorized((token) => client.updateTodo(token, todo.id, { completed: box.checked }))
        await loadTodos()
      }),
    )
    const title = document.createElement('span')
    title.className = 'title'
    title.dataset.testid = 'todo-title-text'
    title.textContent = todo.title
    const remove = button(
      'Delete',
      'todo-delete',
      'danger',
      async () => {
        await session.authorized((token) => client.deleteTodo(token, todo.id))
        await loadTodos()
      },
      `Delete todo ${todo.title}`,
    )
    li.append(box, title, remove)
    return li
  }

  async function loadSessions() {
    const sessions = await session.authorized((token) => client.listSessions(token))
    $('session-list').replaceChildren(...sessions.map(sessionItem))
  }

  /** @param {SessionRow} row */
  function sessionItem(row) {
    const li = document.createElement('li')
    li.dataset.testid = 'session-item'
    li.dataset.id = row.id
    li.dataset.current = String(row.current)
    const text = document.createElement('span')
    text.className = 'title'
    const agent = row.user_agent ? row.user_agent.replace(/^(.{60}).+$/, '$1…') : 'unknown client'
    text.textContent = `${row.client_id} · ${agent} · since ${new Date(row.created_at).toLocaleString()}`
    li.append(text)
    if (row.current) {
      const tag = document.createElement('span')
      tag.className = 'tag'
      tag.textContent = 'this browser'
      li.append(tag)
    }
    li.append(
      button(
        'Sign out',
        'session-revoke',
        'danger',
        async () => {
          await session.authorized((token) => client.revokeSession(token, row.id))
          if (row.current) return signOutIdentity('This session was signed out.')
          await loadSessions()
        },
        `Sign out session ${text.textContent}${row.current ? ' (this browser)' : ''}`,
      ),
    )
    return li
  }

  /**
   * Ends the BetterAuth session too, so a reload does not sign straight back in.
   * @param {string} message
   */
  async function signOutIdentity(message) {
    await client.signOut()
    email = ''
    signedOut(message)
  }

  /** The page's controls. */
  function bind() {
    /**
     * @param {string} formId
     * @param {'sign-in' | 'sign-up'} mode
     */
    const onAuthSubmit = (formId, mode) =>
      $(formId).addEventListener('submit', (event) => {
        event.preventDefault()
        const form = /** @type {HTMLFormElement} */ (event.target)
        const data = new FormData(form)
        const credentials = { email: String(data.get('email')), password: String(data.get('password')) }
        run(async () => {
          showStatus(mode === 'sign-up' ? 'Signing up…' : 'Signing in…')
          if (mode === 'sign-up') await client.signUp({ ...credentials, name: String(data.get('name') || credentials.email) })
          else await client.signIn(credentials)
          email = credentials.email
          await session.exchange()
          for (const input of form.querySelectorAll('input[type="password"]')) /** @type {HTMLInputElement} */ (input).value = ''
          await signedIn()
        }).then(() => {
          if (!session.signedIn) showStatus('Not signed in.')
        })
      })
    onAuthSubmit('auth-form', 'sign-in')
    onAuthSubmit('sign-up-form', 'sign-up')

    $('todo-form').addEventListener('submit', (event) => {
      event.preventDefault()
      const input = /** @type {HTMLInputElement} */ ($('todo-title'))
      run(async () => {
        await session.authorized((token) => client.createTodo(token, input.value))
        input.value = ''
        await loadTodos()
      })
    })

    $('sign-out').addEventListener('click', () =>
      run(async () => {
        await client.revoke()
        await signOutIdentity('Signed out.')
      }),
    )

    $('sign-out-all').addEventListener('click', () =>
      run(async () => {
        await session.authorized((token) => client.revokeAllSessions(token))
        await signOutIdentity('Signed out everywhere.')
      }),
    )

    $('sessions-reload').addEventListener('click', () => run(loadSessions))
  }

  /**
   * A reload keeps the user signed in through the refresh cookie, and only through
   * it: a session revoked elsewhere (sessions panel) stays signed out here.
   */
  function restore() {
    return run(async () => {
      try {
        if (await session.refresh()) return signedIn()
      } catch (error) {
        signedOut('Not signed in.')
        throw error
      }
      signedOut('Not signed in.')
    })
  }

  return { bind, restore, signedOut, showError, showTokenInfo }
}
