import { createHash } from 'node:crypto'
import type { RedisClient } from './redis-client.ts'
import { StoreUnavailableError } from '../errors.ts'

export type ScriptRunner = (redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>

/**
 * A Lua script run with EVALSHA (one round trip), falling back to EVAL when
 * the server does not have it cached (first use, or after a Redis restart).
 */
export function luaScript(source: string): ScriptRunner {
  const sha = createHash('sha1').update(source).digest('hex')
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return await redis.eval(source, keys.length, ...keys, ...args)
      throw error
    }
  }
}

/**
 * Runs a store operation and turns a connection failure (Redis down,
 * timeout, no offline queue) into StoreUnavailableError, which becomes 503.
 * An error Redis itself replied with is a bug and stays what it is.
 */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (error instanceof Error && error.name === 'ReplyError') throw error
    throw new StoreUnavailableError(error)
  }
}
