import t, { type Test } from 'tap'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { bearerAuthPlugin } from '../../src/fastify/bearer-auth.plugin.ts'
import { createAccessTokenVerifier } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.ts'
import { generateSigningKey, startJwksServer, unusedUrl } from '../helpers/jwks-server.ts'
import { audience, issuer, mintAccessToken } from '../helpers/tokens.ts'
import { cacheModes } from '../helpers/cache-modes.ts'

const nowSec = Math.floor(Date.now() / 1000)
const key = await generateSigningKey('ES256', 'k1')
const jwks = await startJwksServer([key.publicJwk])
t.teardown(() => jwks.close())

/** Sends every inject twice; the answers must agree, and a verified token must be a cache hit the second time. */
function injectingTwice(app: FastifyInstance, hits: () => number): FastifyInstance {
  const inject = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const first = await app.inject(options)
    const hitsBefore = hits()
    const second = await app.inject(options)
    const same = (r: LightMyRequestResponse) => JSON.stringify([r.statusCode, r.headers['www-authenticate'], r.headers['retry-after'], r.body])
    if (same(first) !== same(second)) throw new Error(`cache check: ${same(first)} then ${same(second)}`)
    const verified = (first.statusCode === 200 || first.statusCode === 403) && !String(options.url).startsWith('/public')
    if (verified && hits() !== hitsBefore + 1) throw new Error('cache check: the second request was no cache hit')
    return first
  }
  return new Proxy(app, { get: (target, property, receiver) => (property === 'inject' ? inject : Reflect.get(target, property, receiver)) })
}

for (const mode of cacheModes) {
  t.test(`${mode.name}:`, async (t) => {
    // The whole suite runs once per cache mode. With the cache on, every inject is sent twice and
    // both answers must match (the second of an accepted token is served from the cache).
    async function buildApp(t: Test, jwksUrl = jwks.url) {
      const logs: string[] = []
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          logs.push(String(chunk))
          callback()
        },
      })
      const app = Fastify({ logger: { level: 'info', stream } })
      const keySet = createRemoteKeySet({ url: jwksUrl, algorithms: ['ES256'] })
      const verifier = createAccessTokenVerifier({ issuer, audience, keySet, cache: mode.cache })
      await app.register(bearerAuthPlugin, { verifier, realm: 'todo-api' })
      app.get('/read', { config: { scopes: ['todos:read'] } }, async (request) => ({ sub: request.auth?.sub, scope: request.auth?.scope }))
      app.get('/write', { config: { scopes: ['todos:write'] } }, async () => ({ ok: true }))
      app.get('/any', { config: { scopes: [] } }, async (request) => ({ client: request.auth?.client_id }))
      app.get('/public', async (request) => ({ auth: request.auth }))
      t.teardown(() => app.close())
      return { app: mode.cache === false ? app : injectingTwice(app, () => verifier.cache!.hits), logs }
    }

    const token = await mintAccessToken(key, { nowSec, claims: { scope: 'todos:read' } })

    t.test('a valid token with the scope passes and request.auth carries its claims', async (t) => {
      const { app } = await buildApp(t)
      const res = await app.inject({ url: '/read', headers: { authorization: `Bearer ${token}` } })
      t.equal(res.statusCode, 200)
      t.same(res.json(), { sub: 'user-1', scope: ['todos:read'] })
      const any = await app.inject({ url: '/any', headers: { authorization: `bearer ${token}` } })
      t.equal(any.statusCode, 200, 'the scheme is case-insensitive')
      t.same(any.json(), { client: 'cli' })
    })

    t.test('a route without config.scopes is not authenticated and has auth null', async (t) => {
      const { app } = await buildApp(t)
      const res = await app.inject({ url: '/public', headers: { authorization: 'Bearer garbage' } })
      t.equal(res.statusCode, 200)
      t.same(res.json(), { auth: null })
    })

    t.test('RFC 6750 answers for every kind of bad credential', async (t) => {
      const { app } = await buildApp(t)
      const expired = await mintAccessToken(key, { nowSec, claims: { exp: nowSec - 60, iat: nowSec - 1000 } })
      const otherAudience = await mintAccessToken(key, { nowSec, claims: { aud: 'token-service' } })
      const cases: Array<[string, Record<string, string>, string, number, string]> = [
        ['no Authorization header', {}, '/read', 401, 'Bearer realm="todo-api"'],
        ['an empty Authorization header', { authorization: '' }, '/read', 401, 'Bearer realm="todo-api"'],
        ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, '/read', 401, 'Bearer realm="todo-api"'],
        ['Bearer without a token', { authorization: 'Bearer' }, '/read', 400, 'Bearer realm="todo-api", error="invalid_request", error_description="The Authorization header is malformed"'],
        ['Bearer and spaces', { authorization: 'Bearer   ' }, '/read', 400, 'error="invalid_request"'],
        ['two tokens', { authorization: `Bearer ${token} ${token}` }, '/read', 400, 'error="invalid_request"'],
        ['a comma list', { authorization: `Bearer ${token}, Bearer ${token}` }, '/read', 400, 'error="invalid_request"'],
        ['characters outside b64token', { authorization: 'Bearer a"b' }, '/read', 400, 'error="invalid_request"'],
        ['garbage', { authorization: 'Bearer garbage' }, '/read', 401, 'Bearer realm="todo-api", error="invalid_token", error_description="The access token is invalid"'],
        ['expired', { authorization: `Bearer ${expired}` }, '/read', 401, 'error="invalid_token"'],
        ['another audience', { authorization: `Bearer ${otherAudience}` }, '/read', 401, 'error="invalid_token"'],
        ['missing scope', { authorization: `Bearer ${token}` }, '/write', 403, 'Bearer realm="todo-api", error="insufficient_scope", error_description="The access token lacks the required scope", scope="todos:write"'],
      ]
      for (const [name, headers, url, status, challenge] of cases) {
        const res = await app.inject({ url, headers })
        t.equal(res.statusCode, status, `${name}: ${status}`)
        t.match(res.headers['www-authenticate'], challenge, `${name}: challenge`)
        if (status === 401 && !challenge.includes('error=')) t.notMatch(res.headers['www-authenticate'], /error=/, `${name}: no error code`)
      }
    })

    t.test('a token in the query string is refused as invalid_request', async (t) => {
      const { app } = await buildApp(t)
      const res = await app.inject({ url: `/read?access_token=${token}` })
      t.equal(res.statusCode, 400)
      t.match(res.headers['www-authenticate'], 'error="invalid_request"')
      const both = await app.inject({ url: `/read?access_token=${token}`, headers: { authorization: `Bearer ${token}` } })
      t.equal(both.statusCode, 400)
    })

    t.test('two Authorization headers on the wire are refused as invalid_request', async (t) => {
      const { app } = await buildApp(t)
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/read', headers: ['authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`] }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
        req.on('error', reject)
        req.end()
      })
      t.equal(status, 400)
    })

    t.test('with the key set unreachable and nothing cached the answer is 503, never success', async (t) => {
      const { app } = await buildApp(t, await unusedUrl())
      const res = await app.inject({ url: '/read', headers: { authorization: `Bearer ${token}` } })
      t.equal(res.statusCode, 503)
      t.equal(res.headers['retry-after'], '5')
      t.notOk(res.body.includes('ECONNREFUSED'), 'no internal detail in the body')
    })

    t.test('no token shape, however malformed, produces a 5xx', async (t) => {
      const { app } = await buildApp(t)
      const [h, p, s] = token.split('.') as [string, string, string]
      const shapes = [
        'a.b.c',
        '...',
        `${h}..${s}`,
        `${h}.${p}.${s}.`,
        `${'A'.repeat(20000)}.${p}.${s}`,
        `${Buffer.from('{"alg":"ES256","kid":{"$ne":1},"typ":"at+jwt"}').toString('base64url')}.${p}.${s}`,
        `${Buffer.from('{"alg":"ES256","kid":"../../etc/passwd","typ":"at+jwt"}').toString('base64url')}.${p}.${s}`,
        `${Buffer.from('{"alg":"ES256","kid":"__proto__","typ":"at+jwt"}').toString('base64url')}.${p}.${s}`,
        `${Buffer.from('{"alg":"ES256","kid":"k1","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('[]').toString('base64url')}.${s}`,
        `${Buffer.from('null').toString('base64url')}.${p}.${s}`,
        `${Buffer.from('{"__proto__":{"alg":"ES256"},"typ":"at+jwt","kid":"k1"}').toString('base64url')}.${p}.${s}`,
        '~~~~',
        '=',
      ]
      for (const shape of shapes) {
        const res = await app.inject({ url: '/read', headers: { authorization: `Bearer ${shape}` } })
        t.ok(res.statusCode >= 400 && res.statusCode < 500, `${shape.slice(0, 40)}… → ${res.statusCode}`)
      }
      t.equal(({} as Record<string, unknown>).alg, undefined, 'Object.prototype is untouched')
    })

    t.test('refusals are logged with a code but never with the token', async (t) => {
      const { app, logs } = await buildApp(t)
      const expired = await mintAccessToken(key, { nowSec, claims: { exp: nowSec - 60, iat: nowSec - 1000 } })
      await app.inject({ url: '/read', headers: { authorization: `Bearer ${expired}` } })
      await app.inject({ url: '/write', headers: { authorization: `Bearer ${token}` } })
      const all = logs.join('')
      t.match(all, /"event":"auth_failed"/)
      t.match(all, /"code":"ERR_TOKEN_EXPIRED"/)
      t.match(all, /"event":"auth_forbidden"/)
      t.notOk(all.includes(expired), 'the expired token is not in the logs')
      t.notOk(all.includes(token), 'the valid token is not in the logs')
      t.notOk(all.includes(token.split('.')[2]!), 'not even its signature')
    })

    t.test('a realm that would need escaping is refused at registration', async (t) => {
      const app = Fastify()
      t.teardown(() => app.close())
      const keySet = createRemoteKeySet({ url: jwks.url, algorithms: ['ES256'] })
      await t.rejects(async () => {
        await app.register(bearerAuthPlugin, { verifier: createAccessTokenVerifier({ issuer, audience, keySet }), realm: 'a"b' })
        await app.ready()
      }, TypeError)
    })
  })
}
