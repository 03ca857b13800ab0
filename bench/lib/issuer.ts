import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'

/**
 * A stand-in issuer for the verifier benchmarks: one ES256 key, its JWKS at
 * /.well-known/jwks.json (the path get-jwks derives from `iss`), and tokens
 * shaped exactly like token-service's access tokens (SPEC §5). Verification
 * cost does not depend on who signed, so the resource-server figures hold.
 */
export interface BenchIssuer {
  issuer: string
  jwksUrl: string
  audience: string
  sign(sub?: string): Promise<string>
  close(): Promise<void>
}

export async function startBenchIssuer(audience = 'todo-api'): Promise<BenchIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = randomUUID()
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }
  const body = JSON.stringify({ keys: [jwk] })
  const server: Server = createServer((request, response) => {
    if (request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' })
      response.end(body)
      return
    }
    response.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const issuer = `http://127.0.0.1:${port}`
  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    audience,
    sign: (sub = randomUUID()) => signWith(privateKey, kid, issuer, audience, sub),
    async close() {
      server.close()
      await once(server, 'close')
    },
  }
}

function signWith(privateKey: CryptoKey, kid: string, issuer: string, audience: string, sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    client_id: 'web',
    scope: 'todos:read todos:write',
    sid: randomUUID(),
    email: `${sub.slice(0, 8)}@bench.example`,
    roles: ['user'],
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setJti(randomUUID())
    .sign(privateKey)
}
