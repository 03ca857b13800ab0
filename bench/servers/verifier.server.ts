import Fastify from 'fastify'
import { bearerAuthPlugin, createAccessTokenVerifier, createRemoteKeySet } from '@todo-auth/token-verifier'
import { announce } from './listening.ts'

// todo-api's auth path alone: our verifier plugin (verified-token cache on, its default; CACHE=off
// turns it off, CACHE_SIZE=<n> sizes it, CACHE_ADMISSION=first-use stores every token on its first
// verification) on a route that only authenticates.
const env = process.env
const keySet = createRemoteKeySet({ url: env.JWKS_URL!, algorithms: ['ES256'] })
const cache =
  env.CACHE === 'off' ? false : env.CACHE_SIZE || env.CACHE_ADMISSION ? { ...(env.CACHE_SIZE ? { maxEntries: Number(env.CACHE_SIZE) } : {}), ...(env.CACHE_ADMISSION === 'first-use' ? { admission: 'first-use' as const } : {}) } : undefined
const verifier = createAccessTokenVerifier({ issuer: env.ISSUER!, audience: env.AUDIENCE!, keySet, ...(cache !== undefined ? { cache } : {}) })
const app = Fastify({ logger: false })
await app.register(bearerAuthPlugin, { verifier })
app.get('/auth', { config: { scopes: ['todos:read'] } }, async (request) => ({ sub: request.auth!.sub }))
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
