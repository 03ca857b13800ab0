import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { startIdentity } from '@todo-auth/testkit'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { exchange, identityEnv, post, refresh } from '../grants/helpers.ts'
import { testClock } from '../helpers/build.ts'

// A Redis of this test's own (never the machine's shared one on 6379), append-only so a restart keeps its data.

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', dir, '--save', ''], { stdio: 'ignore' })
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 })
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      return child
    } catch {
      probe.disconnect()
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}

const identity = await startIdentity()
t.teardown(() => identity.close())

t.test('Redis restarted mid-test: clear 503s while it is down, full recovery after, no token state lost', async (t) => {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'ts-redis-'))
  let redis = await startRedis(port, dir)
  t.teardown(async () => {
    await stopRedis(redis)
    await rm(dir, { recursive: true, force: true })
  })

  const clock = testClock()
  const config = loadConfig({
    ...identityEnv(identity),
    LOG_LEVEL: 'silent',
    REDIS_URL: `redis://127.0.0.1:${port}`,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
  })
  // The service's own Redis client (fail fast, reconnect by itself), as in production.
  const app = await buildApp(config, { clock })
  t.teardown(() => app.close())
  const api = app.publicApp

  const user = await identity.signUp()
  const first = (await exchange(api, user.jwt)).json()
  const second = (await refresh(api, first.refresh_token)).json()
  t.ok(second.refresh_token, 'a rotated token before the restart')

  await stopRedis(redis)
  const down = [
    ['exchange', () => exchange(api, user.jwt)],
    ['refresh', () => refresh(api, second.refresh_token)],
    ['revoke', () => post(api, '/oauth/revoke', { token: second.refresh_token, client_id: 'cli' })],
  ] as const
  for (const [label, call] of down) {
    const started = performance.now()
    const response = await call()
    const elapsed = performance.now() - started
    t.equal(response.statusCode, 503, `${label}: 503`)
    t.same(response.json(), { error: 'temporarily_unavailable', error_description: 'try again shortly' }, `${label}: temporarily_unavailable`)
    t.ok(response.headers['retry-after'], `${label}: Retry-After`)
    t.ok(elapsed < 1000, `${label}: answered in ${Math.round(elapsed)} ms`)
  }
  const sessions = await api.inject({ method: 'GET', url: '/sessions', headers: { authorization: `Bearer ${second.access_token}` } })
  t.equal(sessions.statusCode, 503, 'sessions API: 503')
  t.equal(sessions.json().code, 'STORE_UNAVAILABLE')
  t.equal((await api.inject({ method: 'GET', url: '/readyz' })).statusCode, 503, 'not ready while Redis is down')

  redis = await startRedis(port, dir)
  const restartedAt = performance.now()
  const deadline = Date.now() + 10_000
  while ((await api.inject({ method: 'GET', url: '/readyz' })).statusCode !== 200) {
    if (Date.now() > deadline) throw new Error('token-service did not become ready again')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.comment(`ready again ${Math.round(performance.now() - restartedAt)} ms after Redis accepted connections`)

  const third = await refresh(api, second.refresh_token)
  t.equal(third.statusCode, 200, 'the token issued before the restart still refreshes: nothing was lost')
  const listed = await api.inject({ method: 'GET', url: '/sessions', headers: { authorization: `Bearer ${third.json().access_token}` } })
  t.equal(listed.json().length, 1, 'the session is listed again')
  t.equal((await exchange(api, user.jwt)).statusCode, 200, 'new exchanges work')
  clock.advance(10_001)
  const replay = await refresh(api, first.refresh_token)
  t.equal(replay.json().error, 'invalid_grant', 'the spent token from before the restart is still known as spent')
  t.equal((await refresh(api, third.json().refresh_token)).json().error, 'invalid_grant', 'and its replay revoked the session')
})
