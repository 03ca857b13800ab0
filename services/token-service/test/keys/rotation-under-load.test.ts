import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestRedisPrefix, createTestSchema, rotateRepeatedly, spawnService, startIdentity, testRedisUrl, type SpawnedService, repeatedExchangesEnv } from '@todo-auth/testkit'

/**
 * Issue 5's proof, with real processes on loopback: three token-service
 * instances and two todo-api instances; authenticated requests run without a
 * pause while the admin API rotates the signing key ten times (each rotation
 * as soon as pre-publication allows, on short settings). Not one request may
 * fail. Then an emergency revocation of the current key: new tokens work at
 * once, tokens signed by the revoked key are refused within the documented
 * bound (docs/operations.md §4: the JWKS max-age, ≤ JWKS_MAX_AGE, or the
 * verifier's refetch cooldown if longer).
 */
const tokenServiceEntry = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
const todoApiEntry = fileURLToPath(new URL('../../../todo-api/src/server.ts', import.meta.url))

const JWKS_MAX_AGE = 1
/**
 * todo-api's JWKS_COOLDOWN_MS. packages/token-verifier (as of this test) waits
 * at least this long between two fetches even when the cached set went stale
 * after a successful fetch, so a verifier's effective cache time is
 * max(max-age, cooldown): the revocation bound below is that maximum.
 */
const TODO_API_JWKS_COOLDOWN_MS = 1000
const revocationBoundMs = Math.max(JWKS_MAX_AGE * 1000, TODO_API_JWKS_COOLDOWN_MS)
const KEY_PUBLISH_MARGIN = 1
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('ten rotations under continuous load fail no request, and an emergency revoke takes effect within the JWKS max-age', async (t) => {
  const identity = await startIdentity()
  t.teardown(() => identity.close())
  const { prefix, cleanup } = createTestRedisPrefix('ts-proof')
  const schema = await createTestSchema('t_proof')
  const adminToken = randomBytes(32).toString('base64url')
  const services: SpawnedService[] = []
  t.teardown(async () => {
    await Promise.all(services.map((s) => s.stop()))
    await cleanup()
    await schema.drop()
  })

  const tokenEnv = {
    ...repeatedExchangesEnv,
    PORT: '0',
    ADMIN_PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: adminToken,
    ADMIN_RATE_LIMIT_MAX: '10000',
    RATE_LIMIT_MAX: '1000000',
    BETTER_AUTH_JWKS_URL: identity.jwksUrl,
    BETTER_AUTH_ISSUER: identity.issuer,
    BETTER_AUTH_AUDIENCE: identity.audience,
    BETTER_AUTH_ALGORITHMS: identity.algorithms.join(','),
    JWKS_MAX_AGE: String(JWKS_MAX_AGE),
    KEY_PUBLISH_MARGIN: String(KEY_PUBLISH_MARGIN),
    KEY_RELOAD_INTERVAL: '1',
    ACCESS_TOKEN_TTL: '30',
    CLOCK_TOLERANCE: '5',
  }
  for (let i = 0; i < 3; i++) services.push(await spawnService({ entry: tokenServiceEntry, env: tokenEnv, listeners: ['public', 'admin'] }))
  const tokenServices = services.slice(0, 3)
  for (let i = 0; i < 2; i++) {
    services.push(
      await spawnService({
        entry: todoApiEntry,
        env: {
          PORT: '0',
          LOG_LEVEL: 'warn',
          DATABASE_URL: schema.url,
          JWKS_COOLDOWN_MS: String(TODO_API_JWKS_COOLDOWN_MS),
          // Each todo-api reads the JWKS of a different token-service instance.
          TOKEN_SERVICE_JWKS_URL: `${tokenServices[i]!.url}/.well-known/jwks.json`,
        },
      }),
    )
  }
  const todoApis = services.slice(3)
  const user = await identity.signUp()

  let next = 0
  const pick = <T>(list: T[]) => list[next++ % list.length]!
  const failures: string[] = []
  let requests = 0

  async function exchange(): Promise<string> {
    const ts = pick(tokenServices)
    const res = await fetch(`${ts.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: user.jwt,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        client_id: 'cli',
      }),
    })
    requests++
    const body = (await res.json()) as { access_token?: string }
    if (res.status !== 200 || !body.access_token) throw new Error(`exchange at ${ts.url} → ${res.status} ${JSON.stringify(body)}`)
    return body.access_token
  }
  async function listTodos(token: string, api = pick(todoApis)): Promise<number> {
    const res = await fetch(`${api.url}/todos`, { headers: { authorization: `Bearer ${token}` } })
    await res.arrayBuffer()
    requests++
    return res.status
  }

  let loading = true
  const worker = async () => {
    while (loading) {
      try {
        const token = await exchange()
        // Each token is used right away and again a little later, across both todo-api instances.
        for (let i = 0; i < 3 && loading; i++) {
          const status = await listTodos(token)
          if (status !== 200) failures.push(`GET /todos → ${status}`)
          await sleep(20)
        }
      } catch (error) {
        failures.push((error as Error).message)
      }
    }
  }
  const workers = Array.from({ length: 4 }, worker)

  const admin = async (method: string, path: string) => {
    const ts = pick(tokenServices)
    const res = await fetch(`${ts.urls.admin}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, retryAfter: Number(res.headers.get('retry-after') ?? 0) }
  }

  const {
    rotations,
    refusals,
    failure,
    elapsedMs: rotatingMs,
  } = await rotateRepeatedly(
    tokenServices.map((ts) => ts.urls.admin!),
    adminToken,
    10,
  )
  if (failure) failures.push(failure)
  await sleep(1000)
  loading = false
  await Promise.all(workers)

  t.equal(rotations.length, 10, 'ten rotations')
  t.equal(new Set(rotations).size, 10, 'each made a different key current')
  t.ok(refusals > 0, 'the pre-publication rule held rotations back (409) in between')
  t.ok(requests > 100, `load ran throughout (${requests} requests)`)
  t.same(failures.slice(0, 10), [], 'zero failed requests')
  t.comment(`10 rotations in ${(rotatingMs / 1000).toFixed(1)} s under ${requests} requests, ${failures.length} failed, ${refusals} early rotate attempts refused with 409`)

  const keys = (await admin('GET', '/admin/keys')).body as unknown as { state: string }[]
  t.equal(keys.filter((k) => k.state === 'current').length, 1, 'one current key')
  t.equal(keys.filter((k) => k.state === 'next').length, 1, 'one next key')

  // Emergency: revoke the current key once the next key is old enough for every verifier cache.
  await sleep((JWKS_MAX_AGE + KEY_PUBLISH_MARGIN) * 1000)
  const oldToken = await exchange()
  for (const api of todoApis) t.equal(await listTodos(oldToken, api), 200, 'the soon-revoked key works before revocation')
  const revokedKid = JSON.parse(Buffer.from(oldToken.split('.')[0]!, 'base64url').toString()).kid as string
  const revokedAt = performance.now()
  const revoke = await admin('POST', `/admin/keys/${revokedKid}/revoke`)
  t.equal(revoke.status, 200)
  t.equal(revoke.body.previous_state, 'current')

  // Every token-service instance signs with the promoted key within 1 s; tokens from it work at once.
  const freshTokens: string[] = []
  for (const ts of tokenServices) {
    for (;;) {
      const res = await fetch(`${ts.url}/.well-known/jwks.json`)
      const jwks = (await res.json()) as { keys: { kid: string }[] }
      if (!jwks.keys.some((k) => k.kid === revokedKid)) break
      if (performance.now() - revokedAt > 1000) {
        t.fail(`${ts.url} still publishes the revoked key after 1 s`)
        break
      }
      await sleep(20)
    }
  }
  for (let i = 0; i < 3; i++) freshTokens.push(await exchange())
  for (const token of freshTokens) {
    t.not(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid, revokedKid, 'new tokens use another key')
    for (const api of todoApis) t.equal(await listTodos(token, api), 200, 'a new token works at once')
  }

  // Tokens of the revoked key: refused by every todo-api within the max-age it was served (≤ JWKS_MAX_AGE).
  const refusedAfter: number[] = []
  for (const api of todoApis) {
    for (;;) {
      const status = await listTodos(oldToken, api)
      if (status === 401) {
        refusedAfter.push(performance.now() - revokedAt)
        break
      }
      t.equal(status, 200)
      if (performance.now() - revokedAt > (JWKS_MAX_AGE + 5) * 1000) {
        t.fail('the revoked key is still accepted well past the bound')
        break
      }
      await sleep(50)
    }
  }
  t.equal(refusedAfter.length, 2)
  for (const ms of refusedAfter) {
    t.ok(ms <= revocationBoundMs + 1000, `refused ${ms.toFixed(0)} ms after revocation (bound: max(JWKS_MAX_AGE, JWKS_COOLDOWN_MS) = ${revocationBoundMs} ms, +1 s for request timing)`)
  }
})
