import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'

/**
 * A key set served over real HTTP on 127.0.0.1:0, for unit tests of the
 * subject-token verifier that need tokens BetterAuth would never sign
 * (expired, wrong issuer, odd headers). Integration tests use the real
 * BetterAuth (packages/testkit startIdentity).
 */
export interface JwksFixture {
  url: string
  requests: number
  keys: JWK[]
  down: boolean
  close(): Promise<void>
}

export async function startJwksFixture(keys: JWK[]): Promise<JwksFixture> {
  const state = { url: '', requests: 0, keys, down: false, close: async () => {} }
  const server = createServer((req, res) => {
    state.requests += 1
    if (state.down) {
      req.socket.destroy()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth/jwks`
  state.close = () => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return state
}

export interface FixtureKey {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

/** An Ed25519 key as BetterAuth's jwt plugin publishes it (`alg`, `crv`, `x`, `kty`, `kid`; no `use`). */
export async function ed25519Key(kid: string): Promise<FixtureKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true })
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), alg: 'EdDSA', kid } }
}

export async function signSubjectToken(key: FixtureKey, payload: JWTPayload, header: Record<string, unknown> = {}, options: { crit?: Record<string, boolean> } = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, ...header }).sign(key.privateKey, options)
}
