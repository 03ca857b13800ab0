import type { Test } from 'tap'
import { createRemoteKeySet, type RemoteKeySetOptions } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { type generateSigningKey, startJwksServer } from './jwks-server.ts'

// What every remote-key-set test file starts from: a JWKS server, a key set on an injected clock.

export const start = 1_700_000_000_000

export async function setup(t: Test, keys: Awaited<ReturnType<typeof generateSigningKey>>[], options: Partial<RemoteKeySetOptions> = {}) {
  const server = await startJwksServer(keys.map((k) => k.publicJwk))
  t.teardown(() => server.close())
  const clock = { now: start }
  const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now: () => clock.now, ...options })
  return { server, clock, keySet }
}

export async function rejectsWithCode(t: Test, promise: Promise<unknown>, code: string, message?: string) {
  try {
    await promise
    t.fail(`expected ${code}, got a key`)
  } catch (error) {
    t.ok(error instanceof TokenVerifierError, message ?? `rejects with a TokenVerifierError (${code})`)
    t.equal((error as TokenVerifierError).code, code, message ?? `code is ${code}`)
  }
}
