import type { PublicJwk } from '@todo-auth/contracts'

/** SPEC §8: next → current → retired → removed; and revoked. */
export const KeyStates = ['next', 'current', 'retired', 'revoked'] as const
export type KeyState = (typeof KeyStates)[number]

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256'

/** Lifecycle facts of one signing key. Times are milliseconds since the epoch. */
export interface KeyMeta {
  readonly kid: string
  readonly alg: SigningAlg
  readonly state: KeyState
  /** When the key was created, which is when it was first published (as `next`). */
  readonly createdAt: number
  readonly activatedAt?: number
  readonly retiredAt?: number
  readonly revokedAt?: number
}

/** The key itself: the public JWK (public members only) and the sealed private JWK (key-crypto.ts). */
export interface KeyMaterial {
  readonly publicJwk: PublicJwk
  readonly sealedPrivateKey: string
}

/** A stored key. A revoked key has no material any more: its private part is destroyed at revocation. */
export interface StoredKey extends KeyMeta {
  readonly material?: KeyMaterial
}

/** A freshly generated key offered to the store; the store decides whether it is used. */
export interface NewKey {
  readonly kid: string
  readonly alg: SigningAlg
  readonly material: KeyMaterial
}

export interface KeyEnsureOutcome {
  /** Kids the store added (empty when a current and a next already existed). */
  readonly created: readonly string[]
}

export type KeyRotateOutcome =
  | { readonly status: 'rotated'; readonly current: string; readonly next: string; readonly retired: string }
  /** The next key has not been published for `minNextAgeMs` yet. */
  | { readonly status: 'too_young'; readonly retryAfterMs: number }
  /** `expectedCurrentKid` is no longer current: someone else rotated first. */
  | { readonly status: 'stale' }
  /** `activatedBefore` was given and the current key is younger: a scheduled rotation is not due. */
  | { readonly status: 'not_due' }
  /** No current or no next key: run ensure first. */
  | { readonly status: 'incomplete' }

export interface KeyRotateInput {
  readonly now: number
  readonly newNext: NewKey
  readonly minNextAgeMs: number
  readonly force: boolean
  readonly expectedCurrentKid?: string
  readonly activatedBefore?: number
}

export type KeyRevokeOutcome =
  | { readonly status: 'revoked'; readonly previousState: Exclude<KeyState, 'revoked'>; readonly current: string | null; readonly next: string | null }
  | { readonly status: 'already_revoked' }
  | { readonly status: 'not_found' }

/**
 * Persistence of signing keys (SPEC §8). Every state change is atomic (one Lua
 * script in Redis), so a crash mid-change never leaves a half-rotated key set,
 * and every change notifies subscribers of every instance.
 */
export interface KeyStore {
  /** Every stored key, revoked ones included. */
  list(): Promise<StoredKey[]>
  /** Adds `current` when no current key exists and `next` when no next key exists, in one step. */
  ensure(candidates: { current: NewKey; next: NewKey }, now: number): Promise<KeyEnsureOutcome>
  /** next → current, current → retired, `newNext` → next; all or nothing. */
  rotate(input: KeyRotateInput): Promise<KeyRotateOutcome>
  /**
   * Marks `kid` revoked and destroys its private part. A revoked current is
   * replaced by the next key at once and `replacement` becomes next; a revoked
   * next is replaced by `replacement`.
   */
  revoke(kid: string, now: number, replacement: NewKey): Promise<KeyRevokeOutcome>
  /** Deletes retired and revoked keys whose retirement/revocation is at least `lifetimeMs` old. Returns their kids. */
  removeExpired(now: number, lifetimeMs: number): Promise<string[]>
  /** Replaces the sealed private key of `kid` if it still equals `expectedSealed` (KEK rotation). */
  replaceSealedKey(kid: string, expectedSealed: string, sealed: string): Promise<boolean>
  /** A fleet-wide lock with expiry: true when this caller now holds it under `token`. */
  acquireLock(name: string, token: string, ttlMs: number): Promise<boolean>
  /** Releases the lock only if it is still held under `token`. */
  releaseLock(name: string, token: string): Promise<boolean>
  /**
   * Calls `listener` whenever any instance changed the key set, and also when
   * the notification channel (re)connects, since messages may have been missed.
   * Resolves once the subscription is in place (or, when Redis is away, after a
   * bounded wait; it keeps trying): a change made after it resolves is heard.
   */
  subscribe(listener: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}
