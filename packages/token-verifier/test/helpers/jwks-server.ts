import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

export interface SigningKey {
  kid: string
  alg: string
  privateKey: CryptoKey
  publicJwk: JWK
}

/** A key pair with its public JWK as a JWKS would publish it. */
export async function generateSigningKey(alg = 'ES256', kid = `k-${Math.random().toString(36).slice(2)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk }
}

export interface JwksServer {
  url: string
  /** Requests received so far. */
  requests: number
  /** If-None-Match headers received, in order. */
  ifNoneMatch: Array<string | undefined>
  /** The document served (anything JSON-serialisable, or a raw string). */
  body: unknown
  cacheControl: string | undefined
  etag: string | undefined
  /** When set, every request is answered with this status and no JWKS. */
  failStatus: number | undefined
  /** When true, every connection is destroyed without an answer. */
  down: boolean
  delayMs: number
  redirectTo: string | undefined
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1:0 that serves a JWKS the test controls. */
export async function startJwksServer(keys: JWK[] = []): Promise<JwksServer> {
  const timers = new Set<NodeJS.Timeout>()
  const state: JwksServer = {
    url: '',
    requests: 0,
    ifNoneMatch: [],
    body: { keys },
    cacheControl: undefined,
    etag: undefined,
    failStatus: undefined,
    down: false,
    delayMs: 0,
    redirectTo: undefined,
    close: async () => {},
  }
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    if (state.redirectTo) {
      res.writeHead(302, { location: state.redirectTo }).end()
      return
    }
    if (state.failStatus !== undefined) {
      res.writeHead(state.failStatus, { 'content-type': 'text/plain' }).end('no')
      return
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl
    if (state.etag !== undefined) {
      headers.etag = state.etag
      if (req.headers['if-none-match'] === state.etag) {
        res.writeHead(304, headers).end()
        return
      }
    }
    res.writeHead(200, headers).end(typeof state.body === 'string' ? state.body : JSON.stringify(state.body))
  }
  const server = createServer((req, res) => {
    state.requests += 1
    state.ifNoneMatch.push(req.headers['if-none-match'])
    if (state.down) {
      req.socket.destroy()
      return
    }
    if (state.delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!res.destroyed) answer(req, res)
      }, state.delayMs)
      timers.add(timer)
      return
    }
    answer(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  state.close = async () => {
    for (const timer of timers) clearTimeout(timer)
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return state
}

/** A URL on 127.0.0.1 where nothing listens (a port that was just freed). */
export async function unusedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/jwks.json`
}
