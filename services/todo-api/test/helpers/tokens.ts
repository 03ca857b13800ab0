import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'

export const issuer = 'http://localhost:8080'
export const audience = 'todo-api'

export interface TestKey {
  kid: string
  alg: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function generateKey(alg = 'ES256', kid = `k-${randomUUID().slice(0, 8)}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export interface TestJwks {
  url: string
  /** Requests served so far. */
  requests: number
  /** The X-Request-Id of each request served (null: none). */
  requestIds: (string | null)[]
  keys: JWK[]
  /** When true, connections are destroyed without an answer (token-service down). */
  down: boolean
  close(): Promise<void>
}

/** A real JWKS endpoint on 127.0.0.1:0, standing in for token-service's in phase-2 tests. */
export async function startJwks(keys: JWK[]): Promise<TestJwks> {
  const state: TestJwks = { url: '', requests: 0, requestIds: [], keys, down: false, close: async () => {} }
  const server = createServer((req, res) => {
    state.requests += 1
    const id = req.headers['x-request-id']
    state.requestIds.push(typeof id === 'string' ? id : null)
    if (state.down) {
      req.socket.destroy()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  state.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return state
}

export interface MintOptions {
  sub?: string
  scope?: string
  claims?: Record<string, unknown>
  header?: Record<string, unknown>
  omit?: string[]
}

/** An access token shaped like token-service's (SPEC §5), valid now unless told otherwise. */
export async function mint(key: TestKey, options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: issuer,
    sub: options.sub ?? 'user-a',
    aud: audience,
    iat: now,
    exp: now + 900,
    jti: randomUUID(),
    client_id: 'cli',
    scope: options.scope ?? 'todos:read todos:write',
    sid: randomUUID(),
    email: `${options.sub ?? 'user-a'}@example.com`,
    roles: ['user'],
    ...options.claims,
  }
  for (const name of options.omit ?? []) delete claims[name]
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header } as { alg: string }).sign(key.privateKey)
}
