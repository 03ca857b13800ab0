/**
 * A session is one refresh-token family (SPEC §6): it starts at the token
 * exchange, is bound to one client, and ends at its absolute expiry, after
 * REFRESH_IDLE_TTL without use, or when revoked. Times are ms since the epoch.
 */
export interface Session {
  sid: string
  sub: string
  clientId: string
  scope: string[]
  audience: string
  email: string
  roles: string[]
  createdAt: number
  lastUsedAt: number
  /** Absolute end; refreshing never moves it. */
  expiresAt: number
  userAgent: string | null
}

export interface SessionRotateInput {
  sid: string
  /** Hash of the presented refresh token. */
  tokenHash: string
  clientId: string
  /** Hash of the successor, stored as the session's current token if this is the first use. */
  nextTokenHash: string
  /** The successor sealed under the presented token (kept for the grace window). */
  sealedSuccessor: string
  /** Scope the caller asks for: must be within the session's (narrowing only, RFC 6749 §6); checked before anything is spent. */
  scope?: readonly string[]
  /** Audience the caller asks for: must be the session's. */
  audience?: string
  now: number
}

/**
 * - `rotated`: the presented token was current; it is spent now and the successor is current.
 * - `repeated`: the presented token was spent less than the grace window ago; `sealedSuccessor` is
 *   the successor its first use produced (two tabs racing get one chain).
 * - `reused`: a spent token after the grace window; the whole session has been deleted.
 * - `wrong_client`: a token of this session presented by another client; nothing changed (R44).
 * - `invalid_scope` / `invalid_target`: a live token asking for more than its session holds; nothing changed.
 * - `invalid`: unknown token, or the session is expired or revoked.
 */
export type SessionRotateOutcome =
  | { kind: 'rotated'; session: Session }
  | { kind: 'repeated'; session: Session; sealedSuccessor: string }
  | { kind: 'reused'; sub: string }
  | { kind: 'wrong_client' }
  | { kind: 'invalid_scope' }
  | { kind: 'invalid_target' }
  | { kind: 'invalid' }

export type RevokeByTokenOutcome = 'revoked' | 'unknown' | 'wrong_client'

export interface SessionStorePolicy {
  /** A session unused this long ends (REFRESH_IDLE_TTL). */
  idleMs: number
  /** How long a spent token may be repeated for the same successor (REFRESH_REUSE_GRACE). */
  graceMs: number
  /** Sessions a user may hold (MAX_SESSIONS_PER_USER); a new one past it ends the oldest. 0 or absent: no cap. */
  maxPerUser?: number
}

/**
 * Session and refresh-token state. Two implementations with the same
 * behaviour: Redis (shared by every instance, one atomic script per
 * rotation) and in-process (development). Redis failures reject with
 * StoreUnavailableError.
 */
export interface SessionStore {
  /** Stores a new session whose current refresh token has hash `tokenHash`; past `maxPerUser`, the user's oldest sessions end. */
  create(session: Session, tokenHash: string): Promise<void>
  /** Consume-and-rotate, atomically: the only way a refresh token is used. */
  rotate(input: SessionRotateInput): Promise<SessionRotateOutcome>
  /** RFC 7009: ends the session of a current or spent token issued to `clientId`. */
  revokeByToken(input: { sid: string; tokenHash: string; clientId: string }): Promise<RevokeByTokenOutcome>
  /** Ends session `sid` if it belongs to `sub`; false when there is no such live session of that user. */
  revokeForUser(sub: string, sid: string): Promise<boolean>
  /** Ends every session of `sub`; the number ended. */
  revokeAllForUser(sub: string): Promise<number>
  /** The live sessions of `sub`, newest first. */
  listForUser(sub: string, now: number): Promise<Session[]>
  /**
   * Read-only (RFC 7662 introspection): the live session `sid`; with `tokenHash`, only while that is its
   * current refresh token (a spent one is not). Never rotates, never counts as use, never deletes.
   */
  lookup(input: { sid: string; tokenHash?: string; now: number }): Promise<Session | undefined>
}

export function isLive(session: Session, now: number, idleMs: number): boolean {
  return now < session.expiresAt && now - session.lastUsedAt < idleMs
}

/** Newest first, then by id so the order is stable. */
export function byNewest(a: Session, b: Session): number {
  return b.createdAt - a.createdAt || (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0)
}
