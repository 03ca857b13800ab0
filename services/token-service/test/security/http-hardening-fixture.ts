import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import type { Test } from 'tap'
import { SignJWT } from 'jose'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Built } from '../helpers/build.ts'

// Shared by the HTTP hardening suites (http-hardening.test.ts, http-input.test.ts), none of which needs
// BetterAuth: requests that would reach it carry tokens that fail before any key is needed, and
// BETTER_AUTH_JWKS_URL points at a closed port.

const closedPort = await new Promise<number>((resolve) => {
  const probe = createServer()
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  })
})
export const env = { BETTER_AUTH_JWKS_URL: `http://127.0.0.1:${closedPort}/api/auth/jwks` }

export const formType = { 'content-type': 'application/x-www-form-urlencoded' }
export const jsonType = { 'content-type': 'application/json' }

/** A valid access token of this token-service, signed with its current key (SPEC §5). */
export async function accessToken(app: Built, sub = 'user-1'): Promise<string> {
  const { kid, alg, privateKey } = app.keys.signingKey()
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ client_id: 'cli', scope: 'todos:read todos:write', sid: 'AAAAAAAAAAAAAAAAAAAAAA', email: `${sub}@example.com`, roles: ['user'], jti: randomUUID() })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(app.config.ISSUER)
    .setAudience('todo-api')
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey)
}

export interface Probe {
  name: string
  request: InjectOptions & { url: string }
  status: number
}

/** R61: a JSON body is labelled application/json; charset=utf-8; every answer, with or without a body, has nosniff. */
export function expectLabelled(t: Test, response: LightMyRequestResponse, name: string) {
  t.equal(response.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`)
  if (response.body.length > 0) {
    t.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${name}: application/json; charset=utf-8`)
    t.doesNotThrow(() => JSON.parse(response.body), `${name}: the body is JSON`)
  }
}

export async function probeAll(t: Test, app: FastifyInstance, probes: Probe[]) {
  for (const probe of probes) {
    const response = await app.inject(probe.request)
    t.equal(response.statusCode, probe.status, `${probe.name}: ${probe.status}`)
    expectLabelled(t, response, probe.name)
  }
}
