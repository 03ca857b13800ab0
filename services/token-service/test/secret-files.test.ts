import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, spawnTokenService, testRedisUrl } from '@todo-auth/testkit'

// A real token-service process whose every secret comes from a file (`*_FILE`, Docker secrets).
t.test('token-service starts with ADMIN_TOKEN_FILE, KEY_ENCRYPTION_KEY_FILE and REDIS_URL_FILE and uses them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-secrets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const secret = (name: string, value: string) => {
    const path = join(dir, name)
    writeFileSync(path, `${value}\n`, { mode: 0o600 })
    return path
  }
  const adminToken = randomBytes(32).toString('base64url')
  const redis = createTestRedisPrefix('ts-files')
  t.teardown(() => redis.cleanup())
  const service = await spawnTokenService({
    redisPrefix: redis.prefix,
    // Starts the admin listener; its ADMIN_TOKEN is then replaced by the file below.
    admin: { token: 'replaced-by-ADMIN_TOKEN_FILE' },
    env: {
      ADMIN_TOKEN: undefined,
      ADMIN_TOKEN_FILE: secret('admin_token', adminToken),
      KEY_ENCRYPTION_KEY: undefined,
      KEY_ENCRYPTION_KEY_FILE: secret('kek', randomBytes(32).toString('hex')),
      REDIS_URL: undefined,
      REDIS_URL_FILE: secret('redis_url', testRedisUrl),
    },
  })
  t.teardown(() => service.stop())
  const keys = await fetch(`${service.adminUrl}/admin/keys`, { headers: { authorization: `Bearer ${adminToken}` } })
  t.equal(keys.status, 200, 'the admin token read from the file is the one the admin API accepts')
  t.equal((await fetch(`${service.url}/readyz`)).status, 200, 'keys sealed under the file KEK are loaded')
  const client = new Redis(testRedisUrl)
  t.teardown(() => client.disconnect())
  t.ok((await client.keys(`${redis.prefix}*`)).length > 0, 'and stored in the Redis of REDIS_URL_FILE (not the in-process store)')
  t.ok(
    service.lines.every((line) => !line.includes(adminToken)),
    'the secret never reaches the log',
  )
})
