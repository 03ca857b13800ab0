import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { createTestRedisPrefix, testRedisUrl } from '@todo-auth/testkit'
import { buildApp, type Deps, type TokenService } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { FastifyBaseLogger } from 'fastify'
import type { KeyLifecycle } from '../../src/keys/key-manager.ts'

interface TestLike {
  teardown(fn: () => unknown): void
}

export interface FleetMember extends TokenService {
  lifecycle: KeyLifecycle
}

/**
 * Several token-service instances on one Redis prefix (a fleet), each with
 * its own Redis connection, sharing KEY_ENCRYPTION_KEY. Everything is closed
 * before the prefix is cleaned, so no instance re-creates keys afterwards.
 */
export async function fleet(t: TestLike, size: number, env: Record<string, string> = {}, deps: Omit<Deps, 'redis'> = {}) {
  const { prefix, cleanup } = createTestRedisPrefix('ts-fleet')
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    ...env,
  })
  const members: FleetMember[] = []
  const clients: Redis[] = []
  const add = async (overrides: Partial<Config> = {}): Promise<FleetMember> => {
    const redis = new Redis(testRedisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    clients.push(redis)
    await redis.connect()
    const service = await buildApp(Object.freeze({ ...config, ...overrides }), { ...deps, redis })
    const member = { ...service, lifecycle: service.keys as KeyLifecycle }
    members.push(member)
    return member
  }
  const initial = await Promise.all(Array.from({ length: size }, () => add()))
  const admin = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await admin.connect()
  clients.push(admin)
  t.teardown(async () => {
    await Promise.all(members.map((m) => m.close()))
    await cleanup()
    for (const c of clients) c.disconnect()
  })
  return { members: initial, add, config, prefix, redis: admin }
}

/** A logger that drops everything, for key managers built by hand. */
export const silent = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => silent } as unknown as FastifyBaseLogger

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `predicate` every 10 ms; the time it took, or an error after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now()
  while (!(await predicate())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
  return performance.now() - start
}
