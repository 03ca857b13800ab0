import Fastify from 'fastify'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { announce } from './listening.ts'

// Raw jose on the same route: jwtVerify (ES256, iss, aud, typ) on every request against jose's own
// cached remote JWKS, no verified-token cache. What "verify every request" costs through HTTP.
const env = process.env
const jwks = createRemoteJWKSet(new URL(env.JWKS_URL!))
const options = { issuer: env.ISSUER!, audience: env.AUDIENCE!, algorithms: ['ES256'], typ: 'at+jwt' }
const app = Fastify({ logger: false })
app.addHook('onRequest', async (request, reply) => {
  const header = request.headers.authorization
  if (!header?.startsWith('Bearer ')) return reply.code(401).send()
  const { payload } = await jwtVerify(header.slice(7), jwks, options)
  ;(request as unknown as { sub: unknown }).sub = payload.sub
})
app.get('/auth', async (request) => ({ sub: (request as unknown as { sub: string }).sub }))
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
