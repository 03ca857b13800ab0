import type { AccessTokenClaims } from '@todo-auth/contracts'
import type { SigningKey } from '../keys/key-set.ts'
import { createJwsSigner, type JwsSigner } from './jws-signer.ts'
import { secureRandomBytes } from './random.ts'

/** The part of the key manager that signs: the current key, chosen at each call. */
export interface SigningKeySource {
  signingKey(): SigningKey
}

/** What an access token says about its session; the rest comes from the issuer's settings. */
export interface AccessTokenSubject {
  sid: string
  sub: string
  clientId: string
  audience: string
  scope: readonly string[]
  email: string
  roles: readonly string[]
}

export interface AccessTokenIssuer {
  /** Throws (KeysNotLoadedError: 503) when there is no key to sign with, so callers fail before changing state. */
  assertReady(): void
  /** Signs an RFC 9068 access token (SPEC §5); `expiresIn` in seconds. */
  issue(subject: AccessTokenSubject): Promise<{ token: string; expiresIn: number; claims: AccessTokenClaims }>
}

export function createAccessTokenIssuer(options: { issuer: string; ttlSeconds: number; keys: SigningKeySource; now: () => number }): AccessTokenIssuer {
  // One signer per key object (its header encoded once); a rotation hands over a new key object.
  const signers = new WeakMap<SigningKey, JwsSigner>()
  const signerFor = (key: SigningKey) => {
    let signer = signers.get(key)
    if (!signer) {
      signer = createJwsSigner(key, 'at+jwt')
      signers.set(key, signer)
    }
    return signer
  }
  return {
    assertReady() {
      options.keys.signingKey()
    },
    async issue(subject) {
      const iat = Math.floor(options.now() / 1000)
      // Members listed explicitly: nothing from upstream or the request reaches the token unmapped (R26).
      const claims: AccessTokenClaims = {
        iss: options.issuer,
        sub: subject.sub,
        aud: subject.audience,
        exp: iat + options.ttlSeconds,
        iat,
        jti: secureRandomBytes(16).toString('base64url'),
        client_id: subject.clientId,
        scope: subject.scope.join(' '),
        sid: subject.sid,
        email: subject.email,
        roles: [...subject.roles],
      }
      const token = await signerFor(options.keys.signingKey()).sign(claims)
      return { token, expiresIn: options.ttlSeconds, claims }
    },
  }
}
