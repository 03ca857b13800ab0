import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import type { RedisClient } from '../redis/redis-client.ts'
import type { Config } from '../config.ts'
import { ApiError } from '../errors.ts'

/**
 * @fastify/rate-limit for the admin listener: every route registered after
 * it, per address, in Redis when there is one so the limit holds across the
 * fleet. Runs onRequest, so failed authentication attempts count too (R35).
 */
export const adminRateLimitPlugin = fp<{ config: Config; redis: RedisClient | null }>(
  async (app, { config, redis }) => {
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: config.ADMIN_RATE_LIMIT_MAX,
      timeWindow: 60_000,
      ...(redis ? { redis, nameSpace: `${config.REDIS_PREFIX}admin-rate-limit:` } : {}),
      errorResponseBuilder: (_request, context) => {
        return new ApiError(429, 'RATE_LIMITED', `too many admin requests; retry in ${Math.ceil(context.ttl / 1000)} s`)
      },
    })
  },
  { name: 'admin-rate-limit' },
)
