import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import { announce } from './listening.ts'

// Peer: @fastify/jwt + get-jwks. The secret callback is the one of get-jwks' README (getPublicKey for
// the token's iss, kid and alg); the route authenticates in an onRequest hook like ours.
// - MEMO_KEY=true: the PEM is memoised per (iss, kid, alg) for get-jwks' own cache ttl (60 s), so a
//   rotation is seen as soon as get-jwks would see it. Without it get-jwks converts the JWK to PEM on
//   every request (jwk-to-pem: milliseconds for an EC key), and @fastify/jwt reuses one fast-jwt
//   verifier per PEM string either way.
// - FAST_JWT_CACHE=<n>: fast-jwt's verified-token cache with n entries (`cache: true` means 1000).
const env = process.env
const ttlMs = 60_000
const getJwks = buildGetJwks({ issuersWhitelist: [env.ISSUER!], providerDiscovery: false, ttl: ttlMs })
const memo = new Map<string, { pem: Promise<string>; until: number }>()

function publicKey(iss: string, kid: string, alg: string): Promise<string> {
  if (env.MEMO_KEY !== 'true') return getJwks.getPublicKey({ kid, domain: iss, alg })
  const id = `${iss}\u0000${kid}\u0000${alg}`
  const now = Date.now()
  const hit = memo.get(id)
  if (hit && hit.until > now) return hit.pem
  const pem = getJwks.getPublicKey({ kid, domain: iss, alg })
  memo.set(id, { pem, until: now + ttlMs })
  pem.catch(() => memo.delete(id))
  return pem
}

const cacheSize = Number(env.FAST_JWT_CACHE ?? 0)
const app = Fastify({ logger: false })
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: (_request: unknown, token: { header: { kid: string; alg: string }; payload: { iss: string } }) => publicKey(token.payload.iss, token.header.kid, token.header.alg),
  verify: { algorithms: ['ES256'], allowedIss: env.ISSUER!, allowedAud: env.AUDIENCE!, ...(cacheSize > 0 ? { cache: cacheSize } : {}) },
} as never)
app.addHook('onRequest', async (request) => {
  await request.jwtVerify()
})
app.get('/auth', async (request) => ({ sub: (request.user as { sub: string }).sub }))
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
