import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import t from 'tap'
import { spawnTokenService } from '@todo-auth/testkit'

// Checklist R60: security events are logged, with the tokens hashed or masked. The real process
// (in-process store, no BetterAuth needed: every credential here fails before a key is fetched),
// its stdout captured: each failure leaves a line that says what happened, and no credential.

const closedPort = await new Promise<number>((done) => {
  const probe = createServer()
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => done(port))
  })
})

t.test('failed exchanges, refreshes, bearer and admin authentications and key rotations are logged without the credential', async (t) => {
  const adminToken = randomBytes(32).toString('base64url')
  // The in-process store; BetterAuth's JWKS at a closed port (every credential here fails before a key is fetched).
  const service = await spawnTokenService({ identity: { jwksUrl: `http://127.0.0.1:${closedPort}/api/auth/jwks` }, admin: { token: adminToken } })
  t.teardown(() => service.stop())
  const base = service.urls.public!
  const admin = service.urls.admin!
  const b64 = (bytes: number) => randomBytes(bytes).toString('base64url')
  const form = (params: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() })

  const subjectToken = `${b64(30)}.${b64(60)}` // two segments: refused before any key is needed
  const refreshToken = b64(48) // well formed, names no live session
  const bearer = `${b64(20)}.${b64(40)}.${b64(64)}`
  const wrongAdmin = b64(32)
  const secrets = { subjectToken, refreshToken, bearer, wrongAdmin, adminToken }

  const exchange = await fetch(`${base}/oauth/token`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', client_id: 'cli', subject_token: subjectToken, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }))
  t.equal(exchange.status, 400, 'bad subject token refused')
  const refresh = await fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', client_id: 'cli', refresh_token: refreshToken }))
  t.equal(refresh.status, 400, 'unknown refresh token refused')
  t.equal((await fetch(`${base}/sessions`, { headers: { authorization: `Bearer ${bearer}` } })).status, 401, 'bad bearer token refused')
  t.equal((await fetch(`${admin}/admin/keys`, { headers: { authorization: `Bearer ${wrongAdmin}` } })).status, 401, 'wrong admin token refused')
  t.equal((await fetch(`${admin}/admin/keys/rotate?force=true`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } })).status, 200, 'rotation')
  t.equal(await service.stop(), 0)

  const entries = service.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>]
    } catch {
      return []
    }
  })
  const has = (name: string, predicate: (e: Record<string, unknown>) => boolean) => t.ok(entries.some(predicate), name)
  const errMessage = (e: Record<string, unknown>) => String((e.err as { message?: unknown } | undefined)?.message ?? '')
  has('the failed exchange: a warning with invalid_grant and its reason', (e) => e.level === 40 && e.oauthError === 'invalid_grant' && errMessage(e).includes('not a compact JWS'))
  has('the failed refresh: a warning with invalid_grant', (e) => e.level === 40 && e.oauthError === 'invalid_grant' && errMessage(e).includes('refresh token'))
  has('the bad bearer token: auth_failed with a code and a short fingerprint', (e) => e.event === 'auth_failed' && typeof e.code === 'string' && typeof e.token === 'string' && (e.token as string).length <= 16)
  has('the wrong admin token: an audited failure', (e) => e.event === 'audit' && e.type === 'admin' && e.outcome === 'failure' && e.cause === 'wrong_token' && e.status === 401)
  has('the rotation: key_rotated and its audit', (e) => e.event === 'key_rotated')
  has('the rotation: an audited success', (e) => e.event === 'audit' && e.type === 'admin' && e.outcome === 'success' && e.action === 'POST /admin/keys/rotate')

  const log = service.lines.join('\n')
  for (const [name, secret] of Object.entries(secrets)) {
    t.notOk(log.includes(secret), `${name} is not in the log`)
    for (const part of secret.split('.')) if (part.length >= 20) t.notOk(log.includes(part), `nor any segment of ${name}`)
  }
})
