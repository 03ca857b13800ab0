import { createAccessTokenVerifier, type AccessTokenVerifier } from '@todo-auth/token-verifier'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import type { KeyManager } from '../keys/key-manager.ts'

/**
 * Verifies access tokens of this issuer, for any of our audiences, locally
 * against our own published keys (the /sessions API and introspection).
 */
export function createOwnTokenVerifier(config: Config, keys: KeyManager, clock: Clock): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: config.ISSUER,
    audience: config.AUDIENCES,
    // Every alg our key manager signs with; each key is pinned to its own alg (R03).
    algorithms: ['ES256', 'EdDSA', 'RS256'],
    clockToleranceSec: config.CLOCK_TOLERANCE,
    keySet: { getKey: (header) => keys.verificationKey(header) },
    now: () => clock.now(),
  })
}
