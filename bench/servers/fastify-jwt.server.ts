import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import { announce } from './listening.ts'

// Peer: @fastify/jwt + get-jwks as get-jwks' README sets it up; FAST_JWT_CACHE=true turns on fast-jwt's verified-token cache.
const env = process.env
const getJwks = buildGetJwks({ issuersWhitelist: [env.ISSUER!], providerDiscovery: false })
const app = Fastify({ logger: false })
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: (_request: unknown, token: { header: { kid: string; alg: string }; payload: { iss: string } }) =>
    getJwks.getPublicKey({ kid: token.header.kid, domain: token.payload.iss, alg: token.header.alg }),
  verify: { algorithms: ['ES256'], allowedIss: env.ISSUER!, allowedAud: env.AUDIENCE!, ...(env.FAST_JWT_CACHE === 'true' ? { cache: true } : {}) },
} as never)
app.get('/auth', async (request) => {
  await request.jwtVerify()
  return { sub: (request.user as { sub: string }).sub }
})
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
