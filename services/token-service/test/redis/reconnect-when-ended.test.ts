// A client that ioredis ends by itself comes back; one closed with closeRedisClient stays closed.
// ioredis ends a client for good when its connector is disconnected while a connect is under way
// (the failoverDetector does that on a +switch-master that arrives while the client reconnects:
// redis/ioredis#1683). The test makes the same call at the same moment, deterministically, on the
// machine's Redis; redis-sentinel.test.ts is where it happened for real.
import { testRedisUrl, waitFor } from '@todo-auth/testkit'
import type { Redis } from 'ioredis'
import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { closeRedisClient, createRedisClient } from '../../src/redis/redis-client.ts'

const config = loadConfig({ KEY_ENCRYPTION_KEY: 'a'.repeat(64), REDIS_URL: testRedisUrl }).redis!

/** Disconnects the client's connector (as ioredis' failoverDetector does) as soon as its next connect starts. */
function disconnectDuringNextConnect(client: Redis): void {
  client.once('connecting', () => (client as unknown as { connector: { disconnect(): void } }).connector.disconnect())
}

/** Drops the client's connection from the server side, so that ioredis reconnects. */
async function killConnection(client: Redis): Promise<void> {
  const id = await client.client('ID')
  const admin = createRedisClient(config) as Redis
  await admin.connect()
  await admin.client('KILL', 'ID', String(id))
  closeRedisClient(admin)
}

t.test('a client ended by ioredis mid-reconnect is connected again, and answers', async (t) => {
  const client = createRedisClient(config) as Redis
  t.teardown(() => closeRedisClient(client))
  await client.connect()
  const statuses: string[] = []
  client.on('end', () => statuses.push('end'))
  disconnectDuringNextConnect(client)
  await killConnection(client)
  await waitFor(async () => statuses.includes('end'), 5000, 'ioredis did not end the client (the race this test replays did not happen)')
  await waitFor(async () => client.status === 'ready', 5000, `the client stayed ${client.status}`)
  t.equal(await client.ping(), 'PONG', 'the reconnected client answers')
})

t.test('a client closed on purpose stays closed', async (t) => {
  const client = createRedisClient(config) as Redis
  await client.connect()
  closeRedisClient(client)
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.equal(client.status, 'end', 'not reconnected after closeRedisClient')
})
