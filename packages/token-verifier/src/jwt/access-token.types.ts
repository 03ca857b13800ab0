import type { CryptoKey } from 'jose'
import type { AccessTokenClaims } from '@todo-auth/contracts'
import type { RemoteKeySet } from '../jwks/remote-key-set.ts'

// The types both the verifier and its verified-token cache speak, apart so the
// cache depends on types only and the verifier composes the cache.

/**
 * Anything that resolves a JWS header to a verification key, e.g. a {@link RemoteKeySet}.
 * With the verified-token cache on, a cached token is served only while `getKey` (or
 * `peekKey`, when present) still yields the very same CryptoKey object: a resolver should
 * return one object per key (re-importing on every call turns every hit into a re-verification).
 */
export interface KeyResolver {
  getKey(header: { alg?: string; kid?: string }): Promise<CryptoKey>
  /** Optional synchronous lookup without fetching (null: no such key; undefined: ask getKey). See {@link RemoteKeySet.peekKey}. */
  peekKey?(header: { alg?: string; kid?: string }): CryptoKey | null | undefined
  /** Optional change counter of the keys; see {@link RemoteKeySet.version}. */
  readonly version?: number
}

/** A verified RFC 9068 access token. */
export interface VerifiedAccessToken {
  sub: string
  /** The `scope` claim split on spaces. */
  scope: string[]
  roles: string[]
  client_id: string
  sid: string
  jti: string
  exp: number
  iat: number
  email: string
  /** The full claims set, checked against the contracts' AccessTokenClaims. */
  claims: AccessTokenClaims
  /** The protected header members the token was verified with (a verified-token cache checks the key is still published). */
  header: { alg: string; kid: string; typ: string }
}
