import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import type { RedisClient } from '../redis/redis-client.ts'
import type { Config } from '../config.ts'
import { OAuthError } from '../errors.ts'

/**
 * @fastify/rate-limit for the OAuth endpoints: per client IP, kept in Redis
 * (when there is one) so it holds across instances; only routes that ask
 * for it (`global: false`).
 */
export const oauthRateLimitPlugin = fp<{ config: Config; redis: RedisClient | null }>(
  async (app, { config, redis }) => {
    await app.register(rateLimit, {
      global: false,
      hook: 'onRequest',
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW * 1000,
      ...(redis ? { redis, nameSpace: `${config.REDIS_PREFIX}rate-limit:` } : {}),
      // Redis down: let the request through to the endpoint, which answers 503 itself.
      skipOnError: true,
      errorResponseBuilder: (_request, context) => {
        const seconds = String(Math.max(1, Math.ceil(context.ttl / 1000)))
        return new OAuthError('too_many_requests', `too many requests; retry in ${seconds} s`, { statusCode: 429, headers: { 'retry-after': seconds } })
      },
    })
  },
  { name: 'oauth-rate-limit' },
)
