import type { Test } from 'tap'
import { createAccessTokenVerifier, type AccessTokenVerifier, type KeyResolver } from '../../src/jwt/verify-access-token.ts'
import { createRemoteKeySet, type RemoteKeySet, type RemoteKeySetOptions } from '../../src/jwks/remote-key-set.ts'
import { TokenVerifierError } from '../../src/errors.ts'
import { generateSigningKey, startJwksServer, type SigningKey } from './jwks-server.ts'
import { audience, issuer } from './tokens.ts'

// What every verified-token-cache test file starts from.

export const startSec = 1_800_000_000
export const keyA = await generateSigningKey('ES256', 'a')
export const keyB = await generateSigningKey('ES256', 'b')

/**
 * A JWKS server, a remote key set and a cached verifier, all on one injected clock. The verifier
 * stores a token on its first use unless `admission` says otherwise: what an entry serves does not
 * depend on when it was stored (verified-token-cache.admission.test.ts tests the default, second use).
 */
export async function setup(t: Test, options: { keys?: SigningKey[]; maxEntries?: number; admission?: 'first-use' | 'second-use'; keySetOptions?: Partial<RemoteKeySetOptions> } = {}) {
  const server = await startJwksServer((options.keys ?? [keyA, keyB]).map((k) => k.publicJwk))
  t.teardown(() => server.close())
  server.cacheControl = 'max-age=60'
  const clock = { ms: startSec * 1000 }
  const now = () => clock.ms
  const keySet = createRemoteKeySet({ url: server.url, algorithms: ['ES256'], now, cooldownMs: 1000, ...options.keySetOptions })
  const counted = countingKeySet(keySet)
  const verifier = createAccessTokenVerifier({ issuer, audience, keySet: counted, now, cache: { maxEntries: options.maxEntries ?? 100, admission: options.admission ?? 'first-use' } })
  const uncached = createAccessTokenVerifier({ issuer, audience, keySet, now, cache: false })
  return { server, clock, keySet, counted, verifier, uncached }
}

/** The remote key set with a count of getKey calls (one per full verification, plus hits that must revalidate). */
export function countingKeySet(keySet: RemoteKeySet): KeyResolver & { getKeyCalls: number } {
  const counted = {
    getKeyCalls: 0,
    getKey(header: { alg?: string; kid?: string }) {
      counted.getKeyCalls += 1
      return keySet.getKey(header)
    },
    peekKey: (header: { alg?: string; kid?: string }) => keySet.peekKey(header),
    get version() {
      return keySet.version
    },
  }
  return counted
}

export async function outcome(verifier: AccessTokenVerifier, token: string): Promise<string> {
  try {
    return `accepted ${(await verifier.verify(token)).sub}`
  } catch (error) {
    if (error instanceof TokenVerifierError) return error.code
    throw error
  }
}
