// Consumer: the web frontend: web/api-client.js, the module the page itself
// uses, run in Node with a fetch that does what the browser does.
// Provider: token-service. What the page relies on: the token endpoint's
// answers and errors for client `web`, the refresh cookie's attributes (the
// browser decides from them when to send it), revocation, and the sessions API.
import t, { type Test } from 'tap'
import { MatchersV3 } from '@pact-foundation/pact'
import { Compile } from 'typebox/compile'
import { GrantType, OAuthErrorBody, SessionList, TokenResponse, TokenTypeUri, TodoScope } from '@todo-auth/contracts'
import { createConsumerPact, Participant } from '../support/consumer-pact.ts'
import { compactJws, formBody, headerRules, isoDateTime, jsonContentType } from '../support/pact-dsl.ts'
import { ProviderState } from '../support/provider-states.ts'
import { publishPactWhenPassing } from '../support/publish.ts'
import { exampleAccessToken, exampleRefreshToken, exampleSessionId, exampleSubjectToken } from './examples.ts'
import { ApiError, CLIENT_ID as webClientId, createApiClient } from '../../web/api-client.js'
import { BrowserFetch, parseSetCookie, webOrigin, type StoredCookie } from '../support/browser-fetch.ts'

const { like, regex, integer, boolean, eachLike, fromProviderState } = MatchersV3
const consumerPact = createConsumerPact(Participant.web, Participant.tokenService)
const { pact } = consumerPact

/** SPEC §4 with COOKIE_SECURE on (the only setting allowed outside plain-http development). */
const refreshCookieName = '__Secure-refresh_token'
const exampleSetCookie = `${refreshCookieName}=${exampleRefreshToken}; Max-Age=604800; Path=/oauth; HttpOnly; Secure; SameSite=Strict`
/**
 * A Set-Cookie attribute anywhere after the name=value pair, its name in any
 * case. Pact's regex matcher must match the whole header value.
 */
const cookieAttribute = (attribute: string) => `(?i)^[^;]*(;.*)?;\\s*${attribute}\\s*(;.*)?$`
/** One rule per attribute the browser acts on, in whatever order the server writes them. */
const refreshCookieRules = [
  `^${refreshCookieName}=[A-Za-z0-9_-]{43,}(;.*)?$`,
  cookieAttribute('path=/oauth'),
  cookieAttribute('httponly'),
  cookieAttribute('secure'),
  cookieAttribute('samesite=strict'),
  cookieAttribute('max-age=[1-9][0-9]*'),
]
/** SPEC §3: every token endpoint answer. Exact: pact splits a header on commas and would apply a rule to each directive. */
const noStore = 'no-store'
const scopeList = regex(`^(${TodoScope.read}|${TodoScope.write})( (${TodoScope.read}|${TodoScope.write}))*$`, `${TodoScope.read} ${TodoScope.write}`)
/** RFC 6749 §5.1 / RFC 8693 §2.2.1 as the page reads it: access_token, expires_in, scope. */
const tokenResponseBody = {
  access_token: compactJws(exampleAccessToken),
  issued_token_type: TokenTypeUri.accessToken,
  token_type: 'Bearer',
  expires_in: integer(900),
  scope: scopeList,
}
const refreshCookieHeader = fromProviderState(`${refreshCookieName}=\${refreshToken}`, `${refreshCookieName}=${exampleRefreshToken}`)
const exampleCookie = parseSetCookie(exampleSetCookie)
const checkTokenResponse = Compile(TokenResponse)
const checkOAuthError = Compile(OAuthErrorBody)

/** The page's api client against the mock server, in a browser that holds `cookie`. */
function webPage(baseUrl: string, cookie: StoredCookie | null = null) {
  const browser = new BrowserFetch(cookie)
  return { browser, client: createApiClient({ baseUrl, fetch: browser.fetch }) }
}

function assertRefreshCookie(t: Test, browser: BrowserFetch): void {
  const cookie = browser.cookie
  if (!t.ok(cookie, 'the refresh token arrived as a cookie') || !cookie) return
  t.equal(cookie.name, refreshCookieName, `named ${refreshCookieName}`)
  t.equal(cookie.attributes.get('path'), '/oauth', 'sent only to /oauth')
  t.ok(cookie.attributes.has('httponly'), 'HttpOnly: the page script never sees it')
  t.ok(cookie.attributes.has('secure'), 'Secure')
  t.equal(cookie.attributes.get('samesite')?.toLowerCase(), 'strict', 'SameSite=Strict')
  t.ok(Number(cookie.attributes.get('max-age')) > 0, 'Max-Age: the remaining session lifetime')
}

t.test('the page exchanges a BetterAuth JWT for an access token and a refresh cookie', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userSignedInToBetterAuth)
    .uponReceiving('a token exchange from the web client')
    .withRequest('POST', '/oauth/token', (b) => {
      b.headers({ Origin: webOrigin })
      formBody(b, {
        grant_type: GrantType.tokenExchange,
        subject_token: fromProviderState('${subjectToken}', exampleSubjectToken),
        subject_token_type: TokenTypeUri.jwt,
        client_id: webClientId,
      })
    })
    .willRespondWith(200, (b) => {
      b.headers({ 'Content-Type': jsonContentType, 'Cache-Control': noStore, 'Set-Cookie': exampleSetCookie }).jsonBody(tokenResponseBody)
      headerRules(b, 'Set-Cookie', refreshCookieRules)
    })
    .executeTest(async (server) => {
      const { browser, client } = webPage(server.url)
      const body = await client.exchange(exampleSubjectToken)
      t.ok(checkTokenResponse.Check(body), 'the answer satisfies the shared TokenResponse schema')
      t.ok(body.scope.split(' ').includes(TodoScope.write), 'the page may write todos')
      assertRefreshCookie(t, browser)
    })
})

t.test('an invalid BetterAuth JWT is answered with invalid_grant', async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a token exchange from the web client with an invalid subject token')
    .withRequest('POST', '/oauth/token', (b) => {
      b.headers({ Origin: webOrigin })
      formBody(b, { grant_type: GrantType.tokenExchange, subject_token: 'not-a-jwt', subject_token_type: TokenTypeUri.jwt, client_id: webClientId })
    })
    .willRespondWith(400, (b) => b.headers({ 'Content-Type': jsonContentType, 'Cache-Control': noStore }).jsonBody({ error: 'invalid_grant', error_description: like('the subject token is invalid') }))
    .executeTest(async (server) => {
      const { browser, client } = webPage(server.url)
      const error = await client.exchange('not-a-jwt').then(
        () => undefined,
        (e: unknown) => e,
      )
      t.ok(error instanceof ApiError, 'the page shows an error')
      t.equal((error as ApiError).code, 'invalid_grant', 'the error code is invalid_grant')
      t.equal(browser.cookie, null, 'no cookie is set')
    })
})

t.test('the page refreshes with the cookie and gets a rotated cookie', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasWebSession)
    .uponReceiving('a refresh from the web client with its refresh cookie')
    .withRequest('POST', '/oauth/token', (b) => {
      b.headers({ Origin: webOrigin, Cookie: refreshCookieHeader })
      formBody(b, { grant_type: GrantType.refreshToken, client_id: webClientId })
    })
    .willRespondWith(200, (b) => {
      // RFC 8693's issued_token_type belongs to the exchange only.
      const { issued_token_type: _exchangeOnly, ...refreshResponseBody } = tokenResponseBody
      b.headers({ 'Content-Type': jsonContentType, 'Cache-Control': noStore, 'Set-Cookie': exampleSetCookie }).jsonBody(refreshResponseBody)
      headerRules(b, 'Set-Cookie', refreshCookieRules)
    })
    .executeTest(async (server) => {
      const { browser, client } = webPage(server.url, exampleCookie)
      const body = await client.refresh()
      t.ok(body && checkTokenResponse.Check(body), 'the answer satisfies the shared TokenResponse schema')
      assertRefreshCookie(t, browser)
    })
})

t.test('a refresh without the cookie tells the page there is no session', async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a refresh from the web client without a refresh cookie')
    .withRequest('POST', '/oauth/token', (b) => {
      b.headers({ Origin: webOrigin })
      formBody(b, { grant_type: GrantType.refreshToken, client_id: webClientId })
    })
    .willRespondWith(400, (b) =>
      b
        .headers({ 'Content-Type': jsonContentType, 'Cache-Control': noStore })
        // app.js treats both as "signed out" (and nothing else as such).
        .jsonBody({ error: regex('^(invalid_request|invalid_grant)$', 'invalid_request'), error_description: like('the refresh token cookie is missing') }),
    )
    .executeTest(async (server) => {
      const { client } = webPage(server.url)
      t.equal(await client.refresh(), false, 'the page signs out')
      const response = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { origin: webOrigin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: GrantType.refreshToken, client_id: webClientId }),
      })
      t.ok(checkOAuthError.Check(await response.json()), 'the error satisfies the shared OAuthErrorBody schema')
    })
})

t.test('signing out revokes the session and clears the cookie', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasWebSession)
    .uponReceiving('a revocation from the web client with its refresh cookie')
    .withRequest('POST', '/oauth/revoke', (b) => {
      b.headers({ Origin: webOrigin, Cookie: refreshCookieHeader })
      formBody(b, { client_id: webClientId })
    })
    .willRespondWith(200, (b) => {
      b.headers({ 'Set-Cookie': `${refreshCookieName}=; Max-Age=0; Path=/oauth; HttpOnly; Secure; SameSite=Strict` })
      // Cleared: an empty value that has expired, on the same path (else the browser keeps the old one).
      headerRules(b, 'Set-Cookie', [`^${refreshCookieName}=(;.*)?$`, cookieAttribute('path=/oauth'), cookieAttribute('(max-age=0|expires=thu, 01 jan 1970 00:00:00 gmt)')])
    })
    .executeTest(async (server) => {
      const { browser, client } = webPage(server.url, exampleCookie)
      t.equal(await client.revoke(), 200, 'revocation answers 200')
      t.equal(browser.cookie, null, 'the browser dropped the cookie')
    })
})

const authorization = fromProviderState('Bearer ${accessToken}', `Bearer ${exampleAccessToken}`)

t.test("the page lists the user's sessions", async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasWebSession)
    .uponReceiving('a request for the caller’s sessions')
    .withRequest('GET', '/sessions', (b) => b.headers({ Authorization: authorization }))
    .willRespondWith(200, (b) =>
      b.headers({ 'Content-Type': jsonContentType }).jsonBody(
        eachLike({
          id: like(exampleSessionId),
          client_id: like(webClientId),
          created_at: isoDateTime('2026-09-21T14:13:20.000Z'),
          last_used_at: isoDateTime('2026-09-21T14:13:20.000Z'),
          expires_at: isoDateTime('2026-09-28T14:13:20.000Z'),
          user_agent: like('Mozilla/5.0'),
          current: boolean(true),
        }),
      ),
    )
    .executeTest(async (server) => {
      const sessions = await webPage(server.url).client.listSessions(exampleAccessToken)
      t.ok(Compile(SessionList).Check(sessions), 'the list satisfies the shared SessionList schema')
      t.ok(sessions.length > 0, 'the current session is listed')
    })
})

t.test('the page signs the user out everywhere', async (t) => {
  await pact
    .addInteraction()
    .given(ProviderState.userHasWebSession)
    .uponReceiving('a request to end all the caller’s sessions')
    .withRequest('DELETE', '/sessions', (b) => b.headers({ Authorization: authorization }))
    .willRespondWith(204)
    .executeTest(async (server) => {
      t.equal(await webPage(server.url).client.revokeAllSessions(exampleAccessToken), null, '204, nothing to read')
    })
})

publishPactWhenPassing(t, consumerPact)
