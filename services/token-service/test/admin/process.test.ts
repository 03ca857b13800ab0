import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createTestRedisPrefix, spawnTokenService } from '@todo-auth/testkit'
import type { Jwks } from '@todo-auth/contracts'

t.test('a running token-service process rotates and revokes through its admin listener and never logs a key or secret', async (t) => {
  const { prefix, cleanup } = createTestRedisPrefix('ts-proc')
  const adminToken = randomBytes(32).toString('base64url')
  const kek = randomBytes(32).toString('hex')
  const service = await spawnTokenService({ redisPrefix: prefix, admin: { token: adminToken }, env: { LOG_LEVEL: 'trace', KEY_ENCRYPTION_KEY: kek } })
  t.teardown(async () => {
    await service.stop()
    await cleanup()
  })
  const admin = (method: string, path: string, token = adminToken) => fetch(`${service.urls.admin}${path}`, { method, headers: { authorization: `Bearer ${token}` } })

  const jwks = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as Jwks
  t.equal(jwks.keys.length, 2)
  t.equal((await fetch(`${service.url}/admin/keys`, { headers: { authorization: `Bearer ${adminToken}` } })).status, 404, 'not on the public listener')
  t.equal((await admin('GET', '/admin/keys', 'wrong')).status, 401)
  const rotated = (await (await admin('POST', '/admin/keys/rotate?force=true')).json()) as { current: string; next: string; retired: string }
  t.equal((await admin('POST', `/admin/keys/${rotated.retired}/revoke`)).status, 200)
  const after = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as Jwks
  t.same(after.keys.map((k) => k.kid).sort(), [rotated.current, rotated.next].sort())

  const code = await service.stop()
  t.equal(code, 0, 'SIGTERM: graceful exit 0')
  const log = service.lines.join('\n')
  t.match(log, /"event":"audit","type":"admin"/, 'audit events are in the log')
  t.match(log, /"cause":"wrong_token"/)
  t.match(log, /"event":"key_rotated"/)
  t.match(log, /"event":"key_revoked"/)
  t.notOk(log.includes(adminToken), 'no admin token in the logs')
  t.notOk(log.includes(kek), 'no key-encryption key in the logs')
  t.notMatch(log, /"d"\s*:/, 'no private JWK member in the logs')
  t.notMatch(log, /v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16}\./, 'no sealed private key in the logs')
})
