// The fleet, proven end to end: three token-service and two todo-api
// processes behind the real nginx gateway, every token-service on one real
// 3-master Redis Cluster. Ten key rotations through the admin API while a
// bounded load loop exchanges, refreshes and calls todo-api through the
// gateway: not one request may fail. Then a 50-way concurrent refresh of one
// refresh token spread over the three instances: one chain.
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import t from 'tap'
import { createTestSchema, rotateRepeatedly, exchange, refresh, sleep, spawnService, spawnTokenService, startIdentity, startRedisCluster, type SpawnedService, repeatedExchangesEnv } from '@todo-auth/testkit'
import { hostPort, nginxBinary, repoRoot, startGateway } from './helpers/gateways.ts'

const skip = nginxBinary() ? false : 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)'

t.test('3 token-service + 2 todo-api behind nginx on a Redis Cluster: 10 rotations under load, 0 failed requests; 50 racing refreshes, one chain', { skip }, async (t) => {
  const cluster = await startRedisCluster({ masters: 3 })
  t.teardown(() => cluster.stop())
  const identity = await startIdentity({ env: { TRUST_PROXY: '127.0.0.1' } })
  t.teardown(() => identity.close())
  const schema = await createTestSchema('t_fleet')
  const services: SpawnedService[] = []
  t.teardown(async () => {
    await Promise.all(services.map((s) => s.stop()))
    await schema.drop()
  })

  const adminToken = randomBytes(32).toString('base64url')
  const tokenEnv = {
    ...repeatedExchangesEnv,
    LOG_LEVEL: 'warn',
    REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_PREFIX: 'fleet:',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ADMIN_RATE_LIMIT_MAX: '10000',
    RATE_LIMIT_MAX: '1000000',
    TRUST_PROXY: '127.0.0.1',
    JWKS_MAX_AGE: '1',
    KEY_PUBLISH_MARGIN: '1',
    KEY_RELOAD_INTERVAL: '1',
    ACCESS_TOKEN_TTL: '30',
    CLOCK_TOLERANCE: '5',
  }
  const tokenServices = await Promise.all([0, 1, 2].map(() => spawnTokenService({ identity, admin: { token: adminToken }, env: tokenEnv })))
  services.push(...tokenServices)
  const todoApis = await Promise.all(
    [0, 1].map((i) =>
      spawnService({
        entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
        env: {
          PORT: '0',
          LOG_LEVEL: 'warn',
          DATABASE_URL: schema.url,
          TRUST_PROXY: '127.0.0.1',
          JWKS_COOLDOWN_MS: '500',
          TOKEN_SERVICE_JWKS_URL: `${tokenServices[i]!.url}/.well-known/jwks.json`,
        },
      }),
    ),
  )
  services.push(...todoApis)
  const gateway = await startGateway('nginx', {
    identity: hostPort(identity.url),
    'token-service': tokenServices.map((s) => hostPort(s.url)).join(','),
    'todo-api': todoApis.map((s) => hostPort(s.url)).join(','),
  })
  services.push(gateway)
  const gw = gateway.url
  const user = await identity.signUp()

  const failures: string[] = []
  let requests = 0
  const expect = (what: string, status: number, wanted: number) => {
    requests++
    if (status !== wanted) failures.push(`${what} → ${status}`)
    return status === wanted
  }
  let loading = true
  const worker = async () => {
    while (loading) {
      const made = await exchange(gw, user.jwt)
      if (!expect('exchange', made.status, 200)) continue
      let { access_token: at, refresh_token: rt } = made.body
      for (let i = 0; i < 3 && loading; i++) {
        const created = await fetch(`${gw}/todos`, { method: 'POST', headers: { authorization: `Bearer ${at}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: `fleet ${i}` }) })
        await created.arrayBuffer()
        expect('POST /todos', created.status, 201)
        const listed = await fetch(`${gw}/todos?limit=5`, { headers: { authorization: `Bearer ${at}` } })
        await listed.arrayBuffer()
        expect('GET /todos', listed.status, 200)
        const next = await refresh(gw, rt!)
        if (!expect('refresh', next.status, 200)) break
        ;({ access_token: at, refresh_token: rt } = next.body)
      }
    }
  }
  const workers = Array.from({ length: 4 }, worker)

  const {
    rotations,
    refusals,
    failure,
    elapsedMs: rotatingMs,
  } = await rotateRepeatedly(
    tokenServices.map((s) => s.adminUrl!),
    adminToken,
    10,
    { retryMs: 200 },
  )
  if (failure) failures.push(failure)
  await sleep(1000)
  loading = false
  await Promise.all(workers)

  t.equal(new Set(rotations).size, 10, 'ten rotations, each to a different key')
  t.ok(requests > 100, `the load ran throughout (${requests} requests through the gateway)`)
  t.same(failures.slice(0, 10), [], `0 failed requests (${failures.length} failed)`)
  t.comment(`10 rotations in ${(rotatingMs / 1000).toFixed(1)} s, ${refusals} early attempts refused with 409, under ${requests} requests`)

  // 50 refreshes of one token at once, spread over the three instances.
  const start = await exchange(gw, user.jwt)
  t.equal(start.status, 200)
  const raced = await Promise.all(Array.from({ length: 50 }, (_, i) => refresh(tokenServices[i % 3]!.url, start.body.refresh_token!)))
  t.same(
    raced.map((r) => r.status),
    Array(50).fill(200),
    'all 50 succeed (inside the grace window)',
  )
  const successors = new Set(raced.map((r) => r.body.refresh_token))
  t.equal(successors.size, 1, 'one successor refresh token: one chain')
  const onward = await refresh(tokenServices[1]!.url, [...successors][0]!)
  t.equal(onward.status, 200, 'the chain goes on')
  const sid = (JSON.parse(Buffer.from(onward.body.access_token!.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid
  const listed = (await (await fetch(`${gw}/sessions`, { headers: { authorization: `Bearer ${onward.body.access_token}` } })).json()) as { id: string }[]
  t.equal(listed.filter((s) => s.id === sid).length, 1, 'one session for the chain')
})
