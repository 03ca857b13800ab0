import Fastify from 'fastify'
import { fetchJwk, nodeCryptoVerifier } from '../lib/peer-verifiers.ts'
import { announce } from './listening.ts'

// The minimal correct verifier (node:crypto only, bench/lib/peer-verifiers.ts) on the same route,
// synchronously in an onRequest hook: what the signature check costs here when nothing else is done.
const env = process.env
const verify = nodeCryptoVerifier({ jwk: await fetchJwk(env.JWKS_URL!), issuer: env.ISSUER!, audience: env.AUDIENCE! })
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
