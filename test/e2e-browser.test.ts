// The whole journey in headless Chromium (Debian's chromium, driven by
// playwright-core) through the gateway of a stack started by scripts/start.ts:
// sign-up, exchange, todos, a reload kept alive by the refresh cookie, the
// silent refresh before expiry, two tabs refreshing at the same moment, the
// sessions panel (one session and all) and sign-out; axe-core audits the page
// signed out and signed in. Saves a screenshot: to
// docs/screenshot.png with UPDATE_SCREENSHOT=1 (the README's picture), else
// under the OS temp dir so a test run leaves the work tree clean.
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page, type Route } from 'playwright-core'
import t, { type Test } from 'tap'
import { repoRoot } from './helpers/gateways.ts'
import { startStack } from './helpers/stack.ts'

const chromiumPath = '/usr/bin/chromium'
t.test('the whole journey in Chromium through the gateway', { skip: existsSync(chromiumPath) ? false : `${chromiumPath} is not installed here (apt-get install chromium; CI installs it in .ci/run)` }, journey)

const axeScript = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

/** Runs axe-core (WCAG 2.x A/AA and best practices) on the page; each violation as rule id, impact and the offending elements. */
async function axeViolations(page: Page): Promise<Array<{ id: string; impact: string | null | undefined; targets: string[] }>> {
  await page.addScriptTag({ path: axeScript })
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact?: string | null; nodes: Array<{ target: unknown[] }> }> }> } }).axe
    return axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] })
  })
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }))
}

/** The flags this machine kind needs (no sandbox as root, no background network calls). */
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

async function journey(t: Test) {
  const stack = await startStack()
  t.teardown(() => stack.stop())
  const origin = stack.origin
  const browser: Browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs })
  t.teardown(() => browser.close())

  const pageErrors: string[] = []
  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage()
    // Fake timers from the first script on, so the refresh timer can be fast-forwarded.
    await page.clock.install()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    return page
  }
  const refreshes = async (page: Page) => Number((await page.getByTestId('token-info').getAttribute('data-refreshes')) ?? '-1')

  const email = `e2e-${Date.now()}@example.test`
  const password = 'correct horse battery staple'
  const context = await browser.newContext({ baseURL: origin })
  const page = await newPage(context)

  await t.test('a visitor sees the sign-in form', async (t) => {
    await page.goto('/')
    await page.getByTestId('auth-view').waitFor()
    t.equal(await page.getByTestId('status').textContent(), 'Not signed in.')
  })

  await t.test('sign-up through BetterAuth, then the exchange signs the user in', async (t) => {
    await page.getByTestId('name').fill('E2E User')
    await page.getByTestId('sign-up-email').fill(email)
    await page.getByTestId('sign-up-password').fill(password)
    await page.getByTestId('sign-up').click()
    await page.getByTestId('app-view').waitFor()
    t.equal(await page.getByTestId('signed-in-as').textContent(), email)
    const cookies = await context.cookies()
    const refresh = cookies.find((c) => /refresh_token$/.test(c.name))
    t.ok(refresh, 'a refresh cookie is set')
    t.equal(refresh?.httpOnly, true, 'HttpOnly')
    t.equal(refresh?.sameSite, 'Strict', 'SameSite=Strict')
    t.equal(refresh?.path, '/oauth', 'Path=/oauth')
    t.equal(refresh?.secure, true, 'Secure, accepted by Chromium from http://localhost')
  })

  await t.test('todos: add, complete, delete', async (t) => {
    for (const title of ['buy milk', 'write the e2e test', 'water the plants']) {
      await page.getByTestId('todo-title').fill(title)
      await page.getByTestId('todo-add').click()
      await page.getByTestId('todo-item').filter({ hasText: title }).waitFor()
    }
    t.equal(await page.getByTestId('todo-item').count(), 3)
    await page.getByTestId('todo-item').filter({ hasText: 'buy milk' }).getByTestId('todo-toggle').check()
    await page.locator('li.done', { hasText: 'buy milk' }).waitFor()
    await page.getByTestId('todo-item').filter({ hasText: 'water the plants' }).getByTestId('todo-delete').click()
    await page.getByTestId('todo-item').filter({ hasText: 'water the plants' }).waitFor({ state: 'detached' })
    t.equal(await page.getByTestId('todo-item').count(), 2)
  })

  await t.test('the access token is held in memory only', async (t) => {
    const storage = (await page.evaluate('({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })')) as { local: number; session: number; cookie: string }
    t.same(storage, { local: 0, session: 0, cookie: storage.cookie }, 'nothing in web storage')
    t.notMatch(storage.cookie, /refresh_token|eyJ/, 'no token is readable from script cookies')
    t.notMatch(await page.content(), /eyJ[\w-]+\.eyJ/, 'no token in the DOM')
  })

  await t.test('a reload keeps the session through the refresh cookie', async (t) => {
    await page.reload()
    await page.getByTestId('app-view').waitFor()
    await page.getByTestId('todo-item').nth(1).waitFor()
    t.equal(await page.getByTestId('todo-item').count(), 2, 'the todos load with the refreshed token')
    t.equal(await page.getByTestId('signed-in-as').textContent(), email)
  })

  await t.test('the access token is refreshed silently before it expires', async (t) => {
    const before = await refreshes(page)
    // ACCESS_TOKEN_TTL is 900 s: the page refreshes a minute early.
    await page.clock.fastForward('14:01')
    // A selector, not waitForFunction: the page's CSP (rightly) forbids evaluating strings.
    await page.locator(`[data-testid="token-info"]:not([data-refreshes="${before}"])`).waitFor()
    t.equal(await refreshes(page), before + 1)
    await page.getByTestId('todo-title').fill('added after the refresh')
    await page.getByTestId('todo-add').click()
    await page.getByTestId('todo-item').filter({ hasText: 'added after the refresh' }).waitFor()
    t.pass('the new access token works')
  })

  await t.test('two tabs refreshing at the same moment both stay signed in on one session', async (t) => {
    const second = await newPage(context)
    // Hold both refresh requests until both have been sent, then release them together.
    const held: Route[] = []
    let release: () => void = () => {}
    const bothSent = new Promise<void>((done) => (release = done))
    await context.route('**/oauth/token', async (route) => {
      held.push(route)
      if (held.length === 2) release()
      await bothSent
      await route.continue()
    })
    await Promise.all([page.reload(), second.goto('/')])
    await Promise.all([page.getByTestId('app-view').waitFor(), second.getByTestId('app-view').waitFor()])
    await context.unroute('**/oauth/token')
    t.equal(held.length, 2, 'both tabs sent their refresh at once')
    await second.getByTestId('session-item').first().waitFor()
    t.equal(await second.getByTestId('session-item').count(), 1, 'one session: the two refreshes did not fork the chain')
    // The chain is intact: another refresh in each tab still works (a fork or a reuse alarm would fail here).
    for (const tab of [page, second]) {
      await tab.reload()
      await tab.getByTestId('app-view').waitFor()
    }
    await page.getByTestId('todo-item').nth(2).waitFor()
    t.equal(await page.getByTestId('todo-item').count(), 3)
    await second.close()
  })

  let otherPage: Page
  await t.test('the sessions panel signs out one other session', async (t) => {
    const other = await browser.newContext({ baseURL: origin })
    otherPage = await newPage(other)
    await otherPage.goto('/')
    await otherPage.getByTestId('email').fill(email)
    await otherPage.getByTestId('password').fill(password)
    await otherPage.getByTestId('sign-in').click()
    await otherPage.getByTestId('app-view').waitFor()

    await page.getByTestId('sessions-reload').click()
    await page.locator('[data-testid="session-item"][data-current="false"]').waitFor()
    t.equal(await page.getByTestId('session-item').count(), 2)
    mkdirSync(resolve(repoRoot, 'docs'), { recursive: true })
    const shot = process.env.UPDATE_SCREENSHOT === '1' ? resolve(repoRoot, 'docs/screenshot.png') : join(tmpdir(), `todo-auth-e2e-${process.pid}.png`)
    await page.screenshot({ path: shot, fullPage: true })

    await page.locator('[data-testid="session-item"][data-current="false"]').getByTestId('session-revoke').click()
    await page.locator('[data-testid="session-item"][data-current="false"]').waitFor({ state: 'detached' })
    t.equal(await page.getByTestId('session-item').count(), 1)
    // The other browser finds out at its next refresh.
    await otherPage.clock.fastForward('14:01')
    await otherPage.getByTestId('auth-view').waitFor()
    t.match(await otherPage.getByTestId('status').textContent(), /session has ended/)
  })

  await t.test('sign out everywhere ends every session', async (t) => {
    await otherPage.getByTestId('password').fill(password)
    await otherPage.getByTestId('email').fill(email)
    await otherPage.getByTestId('sign-in').click()
    await otherPage.getByTestId('app-view').waitFor()
    await page.getByTestId('sign-out-all').click()
    await page.getByTestId('auth-view').waitFor()
    t.equal(await page.getByTestId('status').textContent(), 'Signed out everywhere.')
    await otherPage.reload()
    await otherPage.getByTestId('auth-view').waitFor()
    t.pass('the other browser is signed out too')
  })

  await t.test('sign in again, then sign out revokes the session and clears the cookie', async (t) => {
    await page.getByTestId('email').fill(email)
    await page.getByTestId('password').fill(password)
    await page.getByTestId('sign-in').click()
    await page.getByTestId('app-view').waitFor()
    await page.getByTestId('todo-item').nth(2).waitFor()
    t.equal(await page.getByTestId('todo-item').count(), 3, "the user's todos are back")
    await page.getByTestId('sign-out').click()
    await page.getByTestId('auth-view').waitFor()
    t.notOk(
      (await context.cookies()).some((c) => /refresh_token$/.test(c.name)),
      'the refresh cookie is gone',
    )
    await page.reload()
    await page.getByTestId('auth-view').waitFor()
    t.equal(await page.getByTestId('status').textContent(), 'Not signed in.')
  })

  await t.test('axe-core finds no accessibility violation, signed out or signed in', async (t) => {
    // Its own context: injecting axe needs bypassCSP, which the journey above must not have.
    const auditContext = await browser.newContext({ baseURL: origin, bypassCSP: true })
    const audited = await newPage(auditContext)
    await audited.goto('/')
    await audited.getByTestId('auth-view').waitFor()
    t.same(await axeViolations(audited), [], 'signed out: the sign-in and sign-up forms')
    // A new user through sign-up: BetterAuth allows 3 sign-ins per 10 s per client, and the steps above just used them.
    await audited.getByTestId('sign-up-email').fill(`axe-${email}`)
    await audited.getByTestId('sign-up-password').fill(password)
    await audited.getByTestId('sign-up').click()
    await audited.getByTestId('app-view').waitFor()
    for (const title of ['first', 'second']) {
      await audited.getByTestId('todo-title').fill(title)
      await audited.getByTestId('todo-add').click()
      await audited.getByTestId('todo-item').filter({ hasText: title }).waitFor()
    }
    await audited.getByTestId('session-item').first().waitFor()
    t.same(await axeViolations(audited), [], 'signed in: todos (several Delete buttons) and sessions')
    await auditContext.close()
  })

  t.same(pageErrors, [], 'no script error on any page')
  await browser.close()

  await t.test('Ctrl-C stops the stack cleanly', async (t) => {
    t.equal(await stack.stop(), 0, 'start exits 0')
    t.match(stack.lines.join('\n'), /start: stopped/)
    const gateway = await fetch(origin).catch((error: Error) => error)
    t.type(gateway, Error, 'the gateway is gone')
  })
}
