import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

// What a consumer test needs to play the issuer for a consumer running as a
// process: a JWKS on a loopback port, and example claims that are valid now.

/** `jwks` at `path` on a loopback port of its own until the test ends; resolves to its URL. */
export async function serveJwks(t: Test, jwks: { keys: object[] }, path: string): Promise<string> {
  const body = JSON.stringify(jwks)
  const server = createServer((request, response) => {
    if (request.url === path) response.writeHead(200, { 'content-type': 'application/json' }).end(body)
    else response.writeHead(404).end()
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  t.teardown(() => new Promise<void>((closed) => server.close(() => closed())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`
}

/**
 * Example claims with `iat` and `exp` moved to now, the lifetime kept: a process
 * has no injectable clock, and the pacts fix their type (integer), not their value.
 */
export function issuedNow<C extends { iat: number; exp: number }>(claims: C): C {
  const iat = Math.floor(Date.now() / 1000)
  return { ...claims, iat, exp: iat + (claims.exp - claims.iat) }
}
