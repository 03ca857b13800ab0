import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import { createJwsSigner } from '../../services/token-service/src/tokens/jws-signer.ts'
import { announce } from './listening.ts'

// The floor under token-service's two grants on this machine: what a token endpoint cannot do
// without, and nothing else. Exchange: the Ed25519 verification of the BetterAuth JWT (jose, the
// same call token-service makes), one ES256 signature (token-service's own signer), one Redis
// write of the session keyed by the refresh token's hash. Refresh: one Lua script that finds the
// presented token's session, spends it and stores its successor (one round trip), and one ES256
// signature. Not here: the rate limit, reuse detection and its grace window, the session index and
// cap, the replay limit, metrics, audit, error mapping. Its rate is the ceiling the service's own
// code is measured against (bench/lib/services.ts); it is a bench fixture, not an implementation.
const env = process.env
// Not auto-pipelined, as token-service's client: 10-12 % less CPU per grant here too (docs/performance.md).
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379/0')
const prefix = env.REDIS_PREFIX ?? 'floor:'
const ttlMs = 3_600_000
const jwks = (await (await fetch(env.JWKS_URL!)).json()) as JSONWebKeySet
const subjectKeys = createLocalJWKSet(jwks)
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const signer = createJwsSigner({ kid: 'floor', alg: 'ES256', privateKey }, 'at+jwt')

redis.defineCommand('rotate', {
  numberOfKeys: 2,
  lua: `local session = redis.call('GET', KEYS[1])
if not session then return false end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], session, 'PX', ARGV[1])
return session`,
})
const rotate = (redis as unknown as { rotate(a: string, b: string, ttl: number): Promise<string | null> }).rotate.bind(redis)

const hash = (token: string) => `${prefix}{rt}:${createHash('sha256').update(token).digest('base64url')}`
const accessToken = (sub: string) => {
  const now = Math.floor(Date.now() / 1000)
  return signer.sign({ iss: 'http://floor', sub, aud: 'todo-api', iat: now, exp: now + 900, jti: randomBytes(16).toString('base64url'), client_id: 'cli', scope: 'todos:read todos:write' })
}
const answer = async (sub: string, refreshToken: string) => ({ access_token: await accessToken(sub), token_type: 'Bearer', expires_in: 900, refresh_token: refreshToken })

const app = Fastify({ logger: false })
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, new URLSearchParams(body as string)))
app.post('/oauth/token', async (request, reply) => {
  const form = request.body as URLSearchParams
  const next = randomBytes(32).toString('base64url')
  if (form.get('grant_type') === 'refresh_token') {
    const session = await rotate(hash(form.get('refresh_token') ?? ''), hash(next), ttlMs)
    if (session === null) return reply.code(400).send({ error: 'invalid_grant' })
    return answer(JSON.parse(session).sub, next)
  }
  const { payload } = await jwtVerify(form.get('subject_token') ?? '', subjectKeys, { issuer: env.SUBJECT_ISSUER!, audience: env.SUBJECT_AUDIENCE!, algorithms: ['EdDSA'] })
  await redis.set(hash(next), JSON.stringify({ sub: payload.sub, client_id: 'cli' }), 'PX', ttlMs)
  return answer(payload.sub!, next)
})
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
