import Fastify from 'fastify'
import { fastJwtVerifier, fetchJwk } from '../lib/peer-verifiers.ts'
import { announce } from './listening.ts'

// fast-jwt alone on the same route: one createVerifier (bench/lib/peer-verifiers.ts: ES256, the PEM
// converted once from the issuer's JWKS, allowedIss, allowedAud, no fast-jwt cache) and a
// synchronous verify on every request in an onRequest hook.
const env = process.env
const verify = fastJwtVerifier({ jwk: await fetchJwk(env.JWKS_URL!), issuer: env.ISSUER!, audience: env.AUDIENCE! })
const app = Fastify({ logger: false })
app.addHook('onRequest', (request, reply, done) => {
  const header = request.headers.authorization
  let payload: { sub: string } | undefined
  try {
    payload = header?.startsWith('Bearer ') ? verify(header.slice(7)) : undefined
  } catch {
    payload = undefined
  }
  if (payload === undefined) {
    reply.code(401).send()
    return
  }
  ;(request as unknown as { sub: unknown }).sub = payload.sub
  done()
})
app.get('/auth', async (request) => ({ sub: (request as unknown as { sub: string }).sub }))
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
