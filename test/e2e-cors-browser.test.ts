// A frontend on another origin, in real Chromium: a page served by a tiny static server on a
// second loopback port calls token-service and todo-api directly (no gateway). From an origin in
// CORS_ORIGINS it exchanges a BetterAuth JWT with the body client `cli`, lists and creates todos
// and refreshes; the cookie client `web` works, credentialed, only from an origin it registers
// (same site); from any other origin the browser itself refuses every answer (fetch rejects).
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import t from 'tap'
import { spawnService, spawnTokenService, startIdentity } from '@todo-auth/testkit'
import { repoRoot } from './helpers/gateways.ts'

const chromiumPath = '/usr/bin/chromium'
/** The flags this machine kind needs (as in e2e-browser.test.ts). */
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** A static server for one page; its origin is the frontend's. */
async function startPage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>frontend on another origin</title><p>cross-origin frontend</p>')
  })
  await new Promise<void>((done) => server.listen({ host: '127.0.0.1', port: 0 }, done))
  const address = server.address()
  return { server, origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }
}

t.test('a frontend on another origin, in Chromium', { skip: existsSync(chromiumPath) ? false : `${chromiumPath} is not installed here (apt-get install chromium; CI installs it in .ci/run)` }, async (t) => {
  const allowed = await startPage()
  t.teardown(() => new Promise<void>((done) => allowed.server.close(() => done())))
  const stranger = await startPage()
  t.teardown(() => new Promise<void>((done) => stranger.server.close(() => done())))
  // Listed in CORS_ORIGINS and registered for the cookie client `web` (same site as the API: another port of 127.0.0.1).
  const cookieFrontend = await startPage()
  t.teardown(() => new Promise<void>((done) => cookieFrontend.server.close(() => done())))

  const identity = await startIdentity({ embedded: true })
  t.teardown(() => identity.close())
  const tokenService = await spawnTokenService({ identity, env: { CORS_ORIGINS: `${allowed.origin},${cookieFrontend.origin}`, WEB_ALLOWED_ORIGINS: cookieFrontend.origin } })
  t.teardown(() => tokenService.stop())
  const todoApi = await spawnService({
    entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
    env: { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: undefined, PGLITE_DATA_DIR: undefined, TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl, CORS_ORIGINS: allowed.origin, LOG_LEVEL: 'info' },
  })
  t.teardown(() => todoApi.stop())

  const browser: Browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs })
  t.teardown(() => browser.close())
  const open = async (origin: string): Promise<Page> => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${origin}/`)
    return page
  }
  const urls = { token: tokenService.tokenUrl, todos: `${todoApi.url}/todos` }

  t.test('preflights name the origin, the methods and headers of the route, and Vary: Origin', async (t) => {
    for (const [url, method, methods] of [
      [urls.todos, 'POST', 'GET, POST, DELETE'],
      [`${urls.todos}/some-id`, 'PATCH', 'GET, PATCH, DELETE'],
      [urls.token, 'POST', 'POST'],
    ] as const) {
      const res = await fetch(url, { method: 'OPTIONS', headers: { origin: allowed.origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } })
      t.equal(res.status, 204, url)
      t.equal(res.headers.get('access-control-allow-origin'), allowed.origin)
      t.equal(res.headers.get('access-control-allow-methods'), methods)
      t.equal(res.headers.get('access-control-allow-headers'), 'Authorization, Content-Type')
      t.match(res.headers.get('vary'), /Origin/)
      t.equal(res.headers.get('access-control-allow-credentials'), null, 'no credentials: this origin is no cookie client’s')
    }
    const refused = await fetch(urls.todos, { method: 'OPTIONS', headers: { origin: stranger.origin, 'access-control-request-method': 'GET' } })
    await refused.arrayBuffer()
    t.equal(refused.headers.get('access-control-allow-origin'), null, 'an origin not listed gets no CORS headers')
  })

  t.test('from an allowed origin: exchange with `cli`, GET and POST /todos, refresh', async (t) => {
    const { jwt } = await identity.signUp()
    const page = await open(allowed.origin)
    const result = await page.evaluate(
      async ({ jwt, urls }) => {
        const form = (params: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) })
        const exchanged = await fetch(urls.token, form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }))
        const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string }
        const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
        const created = await fetch(urls.todos, { method: 'POST', headers: { ...bearer(tokens.access_token), 'content-type': 'application/json' }, body: JSON.stringify({ title: 'from another origin' }) })
        const location = created.headers.get('location')
        const refreshed = await fetch(urls.token, form({ grant_type: 'refresh_token', client_id: 'cli', refresh_token: tokens.refresh_token }))
        const next = (await refreshed.json()) as { access_token: string; refresh_token: string }
        const listed = await fetch(urls.todos, { headers: bearer(next.access_token) })
        const todos = (await listed.json()) as Array<{ title: string }>
        const unauthenticated = await fetch(urls.todos)
        return {
          exchange: exchanged.status,
          create: created.status,
          location,
          refresh: refreshed.status,
          rotated: next.refresh_token !== tokens.refresh_token,
          list: listed.status,
          titles: todos.map((todo) => todo.title),
          challenge: unauthenticated.headers.get('www-authenticate'),
        }
      },
      { jwt, urls },
    )
    t.equal(result.exchange, 200, 'exchange')
    t.equal(result.create, 201, 'POST /todos (preflighted: Authorization and JSON)')
    t.match(result.location, /\/todos\/./, 'Location is exposed to the page')
    t.equal(result.refresh, 200, 'refresh')
    t.ok(result.rotated, 'the refresh token rotated')
    t.equal(result.list, 200, 'GET /todos with the refreshed access token')
    t.same(result.titles, ['from another origin'])
    t.match(result.challenge, /^Bearer/, 'WWW-Authenticate is exposed to the page')
  })

  t.test('the cookie client: refused to an origin it does not register, credentialed for one it does', async (t) => {
    const exchangeWeb = async (page: Page, jwt: string, credentials: 'include' | 'omit') =>
      page.evaluate(
        async ({ jwt, url, credentials }) => {
          const form = (params: Record<string, string>): RequestInit => ({ method: 'POST', credentials, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) })
          try {
            const exchanged = await fetch(url, form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'web' }))
            const first = (await exchanged.json()) as { error?: string; refresh_token?: string }
            if (exchanged.status !== 200) return { exchange: exchanged.status, error: first.error }
            // The refresh token lives only in the HttpOnly cookie; the refresh sends it back.
            const refreshed = await fetch(url, form({ grant_type: 'refresh_token', client_id: 'web' }))
            return { exchange: exchanged.status, inBody: first.refresh_token !== undefined, refresh: refreshed.status }
          } catch (error) {
            return { blocked: (error as Error).name }
          }
        },
        { jwt, url: urls.token, credentials },
      )
    const notRegistered = await open(allowed.origin)
    t.same(await exchangeWeb(notRegistered, (await identity.signUp()).jwt, 'include'), { blocked: 'TypeError' }, 'with credentials: no Allow-Credentials for an origin the cookie client does not register, so the browser blocks it')
    t.same(await exchangeWeb(notRegistered, (await identity.signUp()).jwt, 'omit'), { exchange: 403, error: 'invalid_request' }, 'without: token-service itself refuses the cookie client to that origin')
    const registered = await open(cookieFrontend.origin)
    t.same(await exchangeWeb(registered, (await identity.signUp()).jwt, 'include'), { exchange: 200, inBody: false, refresh: 200 }, 'a registered same-site origin gets the cookie and refreshes with it')
  })

  t.test('from an origin not allowed: the browser blocks every answer', async (t) => {
    const { jwt } = await identity.signUp()
    const page = await open(stranger.origin)
    const outcomes = await page.evaluate(
      async ({ jwt, urls }) => {
        const attempt = async (url: string, init?: RequestInit) => {
          try {
            const res = await fetch(url, init)
            return `answered ${res.status}`
          } catch (error) {
            return `${(error as Error).name}`
          }
        }
        return {
          exchange: await attempt(urls.token, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }),
          }),
          list: await attempt(urls.todos, { headers: { authorization: 'Bearer x' } }),
          create: await attempt(urls.todos, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' }),
        }
      },
      { jwt, urls },
    )
    t.same(outcomes, { exchange: 'TypeError', list: 'TypeError', create: 'TypeError' })
  })
})
