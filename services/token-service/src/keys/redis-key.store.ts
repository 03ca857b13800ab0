import type { FastifyBaseLogger } from 'fastify'
import { guarded, type ScriptRunner } from '../redis/lua-script.ts'
import { closeRedisClient, createSubscriber, type RedisClient } from '../redis/redis-client.ts'
import { replicated, type Durability } from '../redis/replication.ts'
import type { KeyMaterial, KeyMeta, KeyStore, NewKey, KeyRevokeOutcome, KeyRotateOutcome, StoredKey } from './key.store.ts'
import { ensureScript, releaseLockScript, removeExpiredScript, replaceSealedScript, revokeScript, rotateScript } from './redis-key.scripts.ts'

/**
 * The Redis key store: every Redis command of the signing-key lifecycle lives
 * here. Layout under REDIS_PREFIX (one hash tag, so a Redis Cluster runs
 * every script on one slot):
 *   <prefix>{signing-keys}:meta         hash kid → lifecycle JSON
 *   <prefix>{signing-keys}:material     hash kid → public JWK + sealed private JWK
 *   <prefix>{signing-keys}:lock:<name>  fleet lock (SET NX PX, token-checked release)
 *   <prefix>signing-keys:changed        pub/sub channel announcing every change
 * The two hashes carry no TTL on purpose: they are the key set itself, and
 * removeExpired deletes what is no longer needed.
 */
/** How long subscribe() waits for Redis to acknowledge the SUBSCRIBE before it returns anyway. */
const subscribeWaitMs = 2000

/**
 * `durability` (REDIS_WAIT_REPLICAS): a change is answered only once that many
 * replicas hold it, so an operator's revocation answered 200 survives a
 * failover. Losing an unanswered rotation to a failover is harmless: the key
 * it promoted was published long before and stays published as `next`.
 */
export function createRedisKeyStore(options: { redis: RedisClient; prefix: string; log: FastifyBaseLogger; durability?: Durability }): KeyStore {
  const { redis, prefix, log, durability } = options
  const metaKey = `${prefix}{signing-keys}:meta`
  const materialKey = `${prefix}{signing-keys}:material`
  const channel = `${prefix}signing-keys:changed`
  const lockKey = (name: string) => {
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) throw new Error(`invalid lock name ${JSON.stringify(name)}`)
    return `${prefix}{signing-keys}:lock:${name}`
  }
  const subscribers: RedisClient[] = []

  const run = (script: ScriptRunner, keys: string[], args: (string | number)[]) => guarded(() => script(redis, keys, args))
  /** A script that changes the key set, answered once it is replicated (see durability). */
  const change = (script: ScriptRunner, keys: string[], args: (string | number)[]) =>
    guarded(async () => {
      const reply = await script(redis, keys, args)
      await replicated(redis, durability)
      return reply
    })
  const both = [metaKey, materialKey]
  const material = (key: NewKey) => JSON.stringify(key.material)

  return {
    async list() {
      const [meta, materials] = await guarded(async () => {
        // One MULTI so meta and material come from the same moment.
        const replies = await redis.multi().hgetall(metaKey).hgetall(materialKey).exec()
        if (!replies) throw new Error('transaction aborted')
        for (const [error] of replies) if (error) throw error
        return [replies[0]![1] as Record<string, string>, replies[1]![1] as Record<string, string>]
      })
      return Object.entries(meta).map(([kid, raw]) => {
        const m = JSON.parse(raw) as KeyMeta
        const mat = materials[kid]
        return mat === undefined ? m : { ...m, material: JSON.parse(mat) as KeyMaterial }
      }) satisfies StoredKey[]
    },

    async ensure(candidates, now) {
      const { current, next } = candidates
      const created = (await change(ensureScript, both, [channel, now, current.kid, current.alg, material(current), next.kid, next.alg, material(next)])) as string[]
      return { created }
    },

    async rotate(input): Promise<KeyRotateOutcome> {
      const reply = (await change(rotateScript, both, [
        channel,
        input.now,
        input.force ? '1' : '0',
        input.minNextAgeMs,
        input.expectedCurrentKid ?? '',
        input.activatedBefore ?? '',
        input.newNext.kid,
        input.newNext.alg,
        material(input.newNext),
      ])) as [string, ...(string | number)[]]
      switch (reply[0]) {
        case 'rotated':
          return { status: 'rotated', current: String(reply[1]), next: String(reply[2]), retired: String(reply[3]) }
        case 'too_young':
          return { status: 'too_young', retryAfterMs: Number(reply[1]) }
        case 'stale':
        case 'not_due':
        case 'incomplete':
          return { status: reply[0] }
        default:
          throw new Error(`unexpected rotate reply ${reply[0]}`)
      }
    },

    async revoke(kid, now, replacement): Promise<KeyRevokeOutcome> {
      const reply = (await change(revokeScript, both, [channel, now, kid, replacement.kid, replacement.alg, material(replacement)])) as string[]
      if (reply[0] === 'not_found' || reply[0] === 'already_revoked') return { status: reply[0] }
      return {
        status: 'revoked',
        previousState: reply[1] as 'next' | 'current' | 'retired',
        current: reply[2] || null,
        next: reply[3] || null,
      }
    },

    async removeExpired(now, lifetimeMs) {
      return (await change(removeExpiredScript, both, [channel, now, lifetimeMs])) as string[]
    },

    async replaceSealedKey(kid, expectedSealed, sealed) {
      return (await change(replaceSealedScript, [materialKey], [kid, expectedSealed, sealed])) === 1
    },

    async acquireLock(name, token, ttlMs) {
      const key = lockKey(name)
      return guarded(async () => (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK')
    },

    async releaseLock(name, token) {
      return (await run(releaseLockScript, [lockKey(name)], [token])) === 1
    },

    async subscribe(listener) {
      // A subscribed connection can run nothing else, hence a connection of its own.
      // On a Cluster, classic pub/sub: a PUBLISH on any master reaches the subscribers of every node.
      const subscriber = createSubscriber(redis, 'token-service:keys-sub')
      subscribers.push(subscriber)
      subscriber.on('message', (from: string) => {
        if (from === channel) listener()
      })
      // After any (re)connection a change may have been missed while away.
      subscriber.on('ready', () => listener())
      subscriber.on('error', (error: Error) => log.debug({ err: error }, 'key change subscriber error'))
      subscriber.connect().catch((error: unknown) => log.warn({ err: error }, 'key change subscriber cannot connect yet; retrying'))
      const subscribed = subscriber.subscribe(channel).then(
        () => true,
        (error: unknown) => {
          log.warn({ err: error }, 'key change subscription failed')
          return false
        },
      )
      // Resolves once Redis acknowledged the SUBSCRIBE, so changes from then on are heard; when Redis is
      // away it gives up waiting after subscribeWaitMs (start-up must not hang) and keeps trying.
      let waited: NodeJS.Timeout | undefined
      await Promise.race([subscribed, new Promise((resolve) => (waited = setTimeout(resolve, subscribeWaitMs)))])
      clearTimeout(waited)
      return async () => {
        closeRedisClient(subscriber)
        const at = subscribers.indexOf(subscriber)
        if (at >= 0) subscribers.splice(at, 1)
      }
    },

    async close() {
      for (const subscriber of subscribers.splice(0)) closeRedisClient(subscriber)
    },
  }
}
