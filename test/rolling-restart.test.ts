// Issue 17: a rolling restart of one of two token-service instances behind the real nginx gateway,
// under a bounded load loop (exchange + refresh through the gateway): not one request may fail.
// The instance drains (SHUTDOWN_DRAIN): not ready, still serving with Connection: close; then its
// port refuses connections, which nginx retries on the other instance before sending anything.
// The drain outlasts the gateway's upstream keepalive_timeout (3 s): nginx closes its idle
// connections to the instance itself, so none is closed under a request it is sending.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createTestRedisPrefix, exchange, refresh, spawnTokenService, startIdentity, type SpawnedTokenService, repeatedExchangesEnv } from '@todo-auth/testkit'
import { hostPort, nginxBinary, startGateway } from './helpers/gateways.ts'

const skip = nginxBinary() ? false : 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)'

t.test('rolling restart of one of two token-service instances behind nginx: 0 failed requests', { skip }, async (t) => {
  const identity = await startIdentity({ env: { TRUST_PROXY: '127.0.0.1' } })
  t.teardown(() => identity.close())
  const redis = createTestRedisPrefix('t-rolling')
  t.teardown(() => redis.cleanup())
  const env = { ...repeatedExchangesEnv, LOG_LEVEL: 'warn', KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), RATE_LIMIT_MAX: '1000000', TRUST_PROXY: '127.0.0.1', SHUTDOWN_DRAIN: '4' }
  const running: SpawnedTokenService[] = []
  t.teardown(() => Promise.all(running.map((s) => s.kill())))
  const start = async (port = '0') => {
    const service = await spawnTokenService({ redisPrefix: redis.prefix, identity, env: { ...env, PORT: port } })
    running.push(service)
    return service
  }
  const [first, second] = [await start(), await start()]
  const gateway = await startGateway('nginx', {
    identity: hostPort(identity.url),
    'token-service': [first!, second!].map((s) => hostPort(s.url)).join(','),
    'todo-api': '127.0.0.1:9',
  })
  t.teardown(() => gateway.stop())
  const gw = gateway.url
  const user = await identity.signUp()

  const failures: string[] = []
  let requests = 0
  const expect = (what: string, reply: { status: number; body: { error?: string } }) => {
    requests++
    if (reply.status !== 200) failures.push(`${what} → ${reply.status} ${reply.body.error ?? ''}`)
    return reply.status === 200
  }
  let loading = true
  const worker = async () => {
    while (loading) {
      const made = await exchange(gw, await identity.getJwt(user.cookie)).catch((error: Error) => ({ status: 0, body: { error: error.message } }))
      if (!expect('exchange', made)) continue
      let rt = (made.body as { refresh_token?: string }).refresh_token!
      for (let i = 0; i < 5 && loading; i++) {
        const next = await refresh(gw, rt).catch((error: Error) => ({ status: 0, body: { error: error.message } }))
        if (!expect('refresh', next)) break
        rt = (next.body as { refresh_token?: string }).refresh_token!
      }
    }
  }
  const workers = Array.from({ length: 4 }, worker)

  const countBefore = () => requests
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const beforeRestart = countBefore()
  // Restart the first instance on its own port (the gateway's upstream list is fixed).
  const port = new URL(first!.url).port
  const exitCode = await first!.stop(15_000)
  running.splice(running.indexOf(first!), 1)
  const during = requests - beforeRestart
  const restarted = await start(port)
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const afterRestart = requests
  loading = false
  await Promise.all(workers)

  t.equal(exitCode, 0, 'the instance drained and exited 0')
  t.ok(during > 20, `the load ran while it drained and closed (${during} requests)`)
  t.ok(requests - afterRestart >= 0 && restarted.url.endsWith(`:${port}`), 'the replacement took the same port')
  // On a failure, nginx's own account of it (its error log goes to the gateway's stderr).
  if (failures.length > 0)
    t.comment(
      gateway.lines
        .filter((line) => /upstream|\[error\]/.test(line))
        .slice(-10)
        .join('\n'),
    )
  t.same(failures.slice(0, 10), [], `0 failed requests of ${requests} (${failures.length} failed)`)
})
