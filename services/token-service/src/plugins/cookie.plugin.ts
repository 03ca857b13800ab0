import cookie from '@fastify/cookie'
import fp from 'fastify-plugin'

/** @fastify/cookie, for the refresh-token cookie of browser clients. */
export const cookiePlugin = fp(
  async (app) => {
    await app.register(cookie)
  },
  { name: 'cookie' },
)
