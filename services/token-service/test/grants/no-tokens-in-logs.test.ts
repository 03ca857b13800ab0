import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createTestRedisPrefix, spawnTokenService, startIdentity } from '@todo-auth/testkit'
import { exchangeGrant, jwtType, webOrigin } from './helpers.ts'

// The real process at the most verbose level, its stdout and stderr captured: no token, cookie or secret may appear.

t.test('the service logs no token, cookie or secret at trace level, through every flow and failure', async (t) => {
  const identity = await startIdentity()
  t.teardown(() => identity.close())
  const { prefix, cleanup } = createTestRedisPrefix('ts-logs')
  t.teardown(cleanup)
  const adminToken = randomBytes(32).toString('base64url')
  const service = await spawnTokenService({ identity, redisPrefix: prefix, admin: { token: adminToken }, env: { LOG_LEVEL: 'trace', REFRESH_REUSE_GRACE: '0' } })
  t.teardown(() => service.stop())
  const base = service.urls.public!
  const admin = service.urls.admin!
  const secrets: string[] = [adminToken]

  const form = (params: Record<string, string>) => new URLSearchParams(params).toString()
  const postForm = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(params) })

  const user = await identity.signUp()
  secrets.push(user.jwt, user.password, user.cookie.split('=')[1]!)
  const cli = (await (await postForm('/oauth/token', { grant_type: exchangeGrant, subject_token: user.jwt, subject_token_type: jwtType, client_id: 'cli' })).json()) as {
    access_token: string
    refresh_token: string
  }
  secrets.push(cli.access_token, cli.refresh_token)
  const webResponse = await postForm('/oauth/token', { grant_type: exchangeGrant, subject_token: user.jwt, subject_token_type: jwtType, client_id: 'web' }, { origin: webOrigin })
  t.equal(webResponse.status, 200)
  const webCookie = webResponse.headers.getSetCookie()[0]!.split(';')[0]!
  secrets.push(webCookie.split('=')[1]!, ((await webResponse.json()) as { access_token: string }).access_token)

  const rotated = (await (await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: cli.refresh_token, client_id: 'cli' })).json()) as {
    access_token: string
    refresh_token: string
  }
  secrets.push(rotated.access_token, rotated.refresh_token)
  const webRefreshed = await postForm('/oauth/token', { grant_type: 'refresh_token', client_id: 'web' }, { origin: webOrigin, cookie: webCookie })
  t.equal(webRefreshed.status, 200)
  secrets.push(webRefreshed.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!)

  // Failures, whose causes are logged.
  const replay = await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: cli.refresh_token, client_id: 'cli' })
  t.equal(replay.status, 400, 'reuse detected')
  const tampered = `${user.jwt.slice(0, -6)}AAAAAA`
  secrets.push(tampered)
  t.equal((await postForm('/oauth/token', { grant_type: exchangeGrant, subject_token: tampered, subject_token_type: jwtType, client_id: 'cli' })).status, 400)
  t.equal((await postForm(`/oauth/token?subject_token=${user.jwt}`, { client_id: 'cli' })).status, 400, 'a token in the URL is refused')
  t.equal((await fetch(`${base}/sessions`, { headers: { authorization: `Bearer ${cli.access_token}` } })).status, 200)
  t.equal((await fetch(`${base}/sessions`, { headers: { authorization: `Bearer ${tampered}` } })).status, 401)
  t.equal((await fetch(`${base}/sessions?access_token=${cli.access_token}`)).status, 400)
  t.equal((await postForm('/oauth/revoke', { token: rotated.refresh_token, client_id: 'cli' })).status, 200)
  t.equal((await postForm('/oauth/revoke', { client_id: 'web' }, { origin: webOrigin, cookie: webCookie })).status, 200)
  t.equal((await fetch(`${admin}/admin/users/${user.userId}/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } })).status, 204)
  t.equal((await fetch(`${admin}/admin/users/${user.userId}/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}x` } })).status, 401)

  await service.stop()
  const log = service.lines.join('\n')
  t.ok(service.lines.length > 30, `${service.lines.length} log lines captured`)
  t.match(log, /refresh token reuse detected/, 'the reuse is logged as a security event')
  t.match(log, /"url":"\/oauth\/token/, 'requests are logged')
  for (const secret of new Set(secrets)) {
    t.notOk(log.includes(secret), `a ${secret.length}-character secret is absent`)
    // A JWT's signature alone would also be a leak.
    const signature = secret.split('.')[2]
    if (signature) t.notOk(log.includes(signature), 'nor its signature')
  }
})
