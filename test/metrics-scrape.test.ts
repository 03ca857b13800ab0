// Both services' Prometheus metrics (prom-client), scraped over HTTP before and after a real
// session against a real BetterAuth: exchange, todos, refresh, reuse, revocation, a rate limit.
// The exposition text is parsed and the counters must have moved by what was done.
import { resolve } from 'node:path'
import t from 'tap'
import { exchange, refresh, revoke, spawnService, spawnTokenService, startIdentity } from '@todo-auth/testkit'
import { repoRoot } from './helpers/gateways.ts'

/** Samples of a Prometheus text exposition, keyed `name{a="1",b="2"}` with labels sorted by name. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`not an exposition line: ${line}`)
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort()
    samples.set(`${match[1]}${labels.length > 0 ? `{${labels.join(',')}}` : ''}`, Number(match[3]))
  }
  return samples
}

const key = (name: string, labels: Record<string, string> = {}) => {
  const parts = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
  return `${name}${parts.length > 0 ? `{${parts.join(',')}}` : ''}`
}

const identity = await startIdentity({ embedded: true })
t.teardown(() => identity.close())
const tokenService = await spawnTokenService({ identity, admin: true, env: { REFRESH_REUSE_GRACE: '0', RATE_LIMIT_MAX: '12' } })
t.teardown(() => tokenService.stop())
const todoApi = await spawnService({
  entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
  env: { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: undefined, PGLITE_DATA_DIR: undefined, TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl, LOG_LEVEL: 'info' },
})
t.teardown(() => todoApi.stop())

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  t.equal(res.status, 200, `GET ${url}`)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  return parseExposition(await res.text())
}
const scrapeTokenService = () => scrape(`${tokenService.adminUrl}/metrics`, { authorization: `Bearer ${tokenService.adminToken}` })
const scrapeTodoApi = () => scrape(`${todoApi.url}/metrics`)

t.test('the counters move with a real session', async (t) => {
  const tsBefore = await scrapeTokenService()
  const apiBefore = await scrapeTodoApi()
  const moved = (after: Map<string, number>, before: Map<string, number>, name: string, labels?: Record<string, string>) => (after.get(key(name, labels)) ?? 0) - (before.get(key(name, labels)) ?? 0)

  // Two users, two exchanges: the first fetches BetterAuth's JWKS (unless the warm-up did), the second is served from the cache.
  const first = await exchange(tokenService.url, (await identity.signUp()).jwt)
  const second = await exchange(tokenService.url, (await identity.signUp()).jwt)
  t.equal(first.status, 200)
  t.equal(second.status, 200)

  // todo-api: two different tokens, so the second key lookup is a JWKS cache hit (not the verified-token cache).
  for (const token of [first.body.access_token!, second.body.access_token!]) {
    const res = await fetch(`${todoApi.url}/todos`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(res.status, 200)
    await res.arrayBuffer()
  }

  // Rotate, then present the spent token again (grace 0): reuse detected, the session revoked.
  const rotated = await refresh(tokenService.url, first.body.refresh_token!)
  t.equal(rotated.status, 200)
  t.equal((await refresh(tokenService.url, first.body.refresh_token!)).status, 400)
  // The other session is revoked through RFC 7009.
  t.equal((await revoke(tokenService.url, second.body.refresh_token!)).status, 200)
  // Then the rate limit on /oauth/token (12 per window, 4 used above): bounded, stops at the first 429.
  let limited = false
  for (let i = 0; i < 20 && !limited; i++) limited = (await refresh(tokenService.url, 'not-a-token')).status === 429
  t.ok(limited, 'the rate limit answered 429')

  const ts = await scrapeTokenService()
  t.equal(moved(ts, tsBefore, 'token_service_exchanges_total', { client: 'cli' }), 2, 'exchanges by client')
  t.equal(moved(ts, tsBefore, 'token_service_refreshes_total', { outcome: 'rotated' }), 1, 'refreshes: rotated')
  t.equal(moved(ts, tsBefore, 'token_service_refreshes_total', { outcome: 'reused' }), 1, 'refreshes: reused')
  t.ok(moved(ts, tsBefore, 'token_service_refreshes_total', { outcome: 'malformed' }) >= 1, 'refreshes: malformed')
  t.equal(moved(ts, tsBefore, 'token_service_refresh_reuse_detected_total', { cause: 'spent_after_grace' }), 1, 'reuse detection with its cause')
  t.equal(moved(ts, tsBefore, 'token_service_session_revocations_total', { via: 'token' }), 1, 'revocations')
  t.equal(moved(ts, tsBefore, 'token_service_rate_limited_total', { listener: 'public', route: '/oauth/token' }), 1, 'rate-limit rejections')
  const fetched = moved(ts, tsBefore, 'token_service_better_auth_jwks_fetches_total', { outcome: 'ok' }) + (tsBefore.get(key('token_service_better_auth_jwks_fetches_total', { outcome: 'ok' })) ?? 0)
  t.ok(fetched >= 1, "BetterAuth's JWKS was fetched")
  t.ok(moved(ts, tsBefore, 'token_service_better_auth_jwks_cache_hits_total') >= 1, "BetterAuth's JWKS served from the cache")
  const tokenDurations = key('http_request_duration_seconds_count', { listener: 'public', method: 'POST', route: '/oauth/token', status: '200' })
  t.ok((ts.get(tokenDurations) ?? 0) - (tsBefore.get(tokenDurations) ?? 0) >= 3, 'request durations observed')
  t.equal(ts.get(key('token_service_signing_keys_loaded')), 1, 'the existing gauges are still there')

  const api = await scrapeTodoApi()
  t.equal(moved(api, apiBefore, 'http_requests_total', { method: 'GET', route: '/todos', status: '200' }), 2, 'todo-api requests')
  t.equal(moved(api, apiBefore, 'http_request_duration_seconds_count', { method: 'GET', route: '/todos' }), 2, 'todo-api durations')
  t.ok(moved(api, apiBefore, 'todo_api_jwks_fetches_total', { outcome: 'ok' }) + (apiBefore.get(key('todo_api_jwks_fetches_total', { outcome: 'ok' })) ?? 0) >= 1, "token-service's JWKS was fetched")
  t.ok(moved(api, apiBefore, 'todo_api_jwks_cache_hits_total') >= 1, "token-service's JWKS served from the cache")
  t.equal(api.get(key('todo_api_jwks_loaded')), 1)
})
