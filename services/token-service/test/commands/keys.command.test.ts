import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { testRedisUrl } from '@todo-auth/testkit'
import { sealedWith, keyEncryptionKey } from '../../src/keys/key-crypto.ts'
import { createRedisKeyStore } from '../../src/keys/redis-key.store.ts'
import { build } from '../helpers/build.ts'
import { fleet } from '../keys/fleet.ts'

const command = fileURLToPath(new URL('../../src/commands/keys.command.ts', import.meta.url))

async function run(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [command, ...args], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const [code] = (await once(child, 'exit')) as [number]
  return { code, stdout, stderr }
}

t.test('the keys command lists, rotates and revokes through the admin API without printing the token', async (t) => {
  const app = await build(t)
  await app.adminApp!.listen({ host: '127.0.0.1', port: 0 })
  const address = app.adminApp!.server.address() as { port: number }
  const token = app.config.ADMIN_TOKEN!
  const env = { ADMIN_URL: `http://127.0.0.1:${address.port}`, ADMIN_TOKEN: token }
  const noToken = (r: { stdout: string; stderr: string }) => t.notOk((r.stdout + r.stderr).includes(token), 'the token is never printed')

  const list = await run(['list'], env)
  t.equal(list.code, 0, list.stderr)
  noToken(list)
  const keys = JSON.parse(list.stdout) as { kid: string; state: string }[]
  t.same(
    keys.map((k) => k.state),
    ['current', 'next'],
  )

  const young = await run(['rotate'], env)
  t.equal(young.code, 1, 'a refused rotation exits 1')
  t.match(JSON.parse(young.stdout), { code: 'NEXT_KEY_TOO_YOUNG' })
  t.match(young.stderr, /409/)
  noToken(young)

  const forced = await run(['rotate', '--force'], env)
  t.equal(forced.code, 0, forced.stderr)
  t.equal(JSON.parse(forced.stdout).retired, keys[0]!.kid)
  noToken(forced)

  const revoke = await run(['revoke', keys[0]!.kid], env)
  t.equal(revoke.code, 0, revoke.stderr)
  t.match(JSON.parse(revoke.stdout), { kid: keys[0]!.kid, state: 'revoked', previous_state: 'retired' })

  const unknown = await run(['revoke', 'no-such-kid'], env)
  t.equal(unknown.code, 1)
  t.match(JSON.parse(unknown.stdout), { code: 'UNKNOWN_KID' })

  const tokenFile = join(mkdtempSync(join(tmpdir(), 'keys-cmd-')), 'admin_token')
  writeFileSync(tokenFile, `${token}\n`)
  t.teardown(() => rmSync(dirname(tokenFile), { recursive: true, force: true }))
  const fromFile = await run(['list'], { ADMIN_URL: env.ADMIN_URL, ADMIN_TOKEN_FILE: tokenFile })
  t.equal(fromFile.code, 0, 'ADMIN_TOKEN_FILE works like ADMIN_TOKEN (Docker secrets)')
  noToken(fromFile)
  const both = await run(['list'], { ...env, ADMIN_TOKEN_FILE: tokenFile })
  t.equal(both.code, 78)
  t.match(both.stderr, /ADMIN_TOKEN: conflicts with ADMIN_TOKEN_FILE/)

  const wrong = await run(['list'], { ...env, ADMIN_TOKEN: 'not-the-token' })
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /401/)
  t.notOk((wrong.stdout + wrong.stderr).includes('not-the-token'), 'not even a wrong token is printed')
})

t.test('the keys command reports usage and configuration errors with distinct exit codes', async (t) => {
  t.equal((await run([], { ADMIN_TOKEN: 'x' })).code, 2)
  t.equal((await run(['rotate', '--now'], { ADMIN_TOKEN: 'x' })).code, 2)
  t.equal((await run(['revoke'], { ADMIN_TOKEN: 'x' })).code, 2)
  const missing = await run(['list'], {})
  t.equal(missing.code, 78)
  t.match(missing.stderr, /ADMIN_TOKEN: required/)
  const unreachable = await run(['list'], { ADMIN_URL: 'http://127.0.0.1:1', ADMIN_TOKEN: 'secret-value-xyz' })
  t.equal(unreachable.code, 1)
  t.notOk(unreachable.stderr.includes('secret-value-xyz'))
})

t.test('reencrypt re-seals every private key under a new KEY_ENCRYPTION_KEY without changing any kid', async (t) => {
  const oldKek = randomBytes(32).toString('hex')
  const newKek = randomBytes(32).toString('hex')
  const { members, prefix, add, redis } = await fleet(t, 1, { KEY_ENCRYPTION_KEY: oldKek })
  await members[0]!.lifecycle.rotate({ force: true })
  const before = await members[0]!.lifecycle.list()
  const signing = members[0]!.keys.signingKey().kid
  const env = { LOG_LEVEL: 'silent', REDIS_URL: testRedisUrl, REDIS_PREFIX: prefix, KEY_ENCRYPTION_KEY: newKek, KEY_ENCRYPTION_KEY_PREVIOUS: oldKek }

  const first = await run(['reencrypt'], env)
  t.equal(first.code, 0, first.stderr)
  const report = JSON.parse(first.stdout) as { reencrypted: string[]; unchanged: string[]; failed: unknown[] }
  t.same(report.reencrypted.sort(), before.map((k) => k.kid).sort(), 'all three keys re-sealed')
  t.same(report.failed, [])
  t.notOk((first.stdout + first.stderr).includes(newKek) || (first.stdout + first.stderr).includes(oldKek), 'no KEK printed')

  const again = await run(['reencrypt'], env)
  t.same(JSON.parse(again.stdout).reencrypted, [], 'idempotent')

  const newId = keyEncryptionKey(Buffer.from(newKek, 'hex')).id
  const stored = await members[0]!.lifecycle.list()
  t.same(stored.map((k) => k.kid).sort(), before.map((k) => k.kid).sort(), 'same kids')
  // An instance that knows only the new KEK loads the same keys and signs with the same kid.
  const fresh = await add({ KEY_ENCRYPTION_KEY: Buffer.from(newKek, 'hex'), KEY_ENCRYPTION_KEY_PREVIOUS: undefined })
  t.equal(fresh.keys.signingKey().kid, signing)
  const raw = await fresh.lifecycle.list()
  t.equal(raw.length, 3)
  const store = createRedisKeyStore({ redis, prefix, log: fresh.publicApp.log })
  const sealedIds = (await store.list()).map((k) => sealedWith(k.material!.sealedPrivateKey))
  t.same(sealedIds, [newId, newId, newId], 'every key sealed under the new KEK')

  const withoutOld = await run(['reencrypt'], { ...env, KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), KEY_ENCRYPTION_KEY_PREVIOUS: undefined })
  t.equal(withoutOld.code, 1, 'keys sealed under a KEK that is not configured are reported, not lost')
  t.equal(JSON.parse(withoutOld.stdout).failed.length, 3)
})
