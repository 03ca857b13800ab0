import type { Clock } from '../clock.ts'
import { InvalidGrant, InvalidScope, InvalidTarget } from '../errors.ts'
import type { UpstreamIdentity } from '../better-auth/verify-subject-token.ts'
import { hashRefreshToken, mintRefreshToken, newSessionId, openSuccessor, sealSuccessor, sessionIdOf } from '../tokens/refresh-token.codec.ts'
import { RefreshTokenReused } from './session.errors.ts'
import type { Session, SessionRotateOutcome, SessionStore } from './session.store.ts'

export interface SessionGrant {
  session: Session
  refreshToken: string
}

export interface SessionService {
  /** Starts a session at the token exchange (SPEC §6) and mints its first refresh token. */
  start(input: { identity: UpstreamIdentity; clientId: string; scope: string[]; audience: string; userAgent: string | null }): Promise<SessionGrant>
  /**
   * Spends `refreshToken` and returns its successor; InvalidGrant for anything but a live token of
   * `clientId`. `scope` and `audience`, when given, must lie within the session's (checked before
   * anything is spent).
   */
  refresh(input: { refreshToken: string; clientId: string; scope?: readonly string[]; audience?: string }): Promise<SessionGrant>
  /** RFC 7009: ends the session of a refresh token issued to `clientId`; silent about unknown tokens. */
  revokeByToken(input: { token: string; clientId: string }): Promise<'revoked' | 'unknown' | 'wrong_client'>
  list(sub: string): Promise<Session[]>
  revoke(sub: string, sid: string): Promise<boolean>
  revokeAll(sub: string): Promise<number>
  /** Read-only (RFC 7662): the live session of this current refresh token, or undefined; nothing is spent. */
  inspectRefreshToken(token: string): Promise<Session | undefined>
  /** Read-only: the live session `sid` (an access token's session), or undefined. */
  liveSession(sid: string): Promise<Session | undefined>
}

export function createSessionService(options: {
  store: SessionStore
  clock: Clock
  absoluteTtlSeconds: number
  /** Told the outcome of every refresh (metrics); `malformed`: not a refresh token at all. */
  onRotate?: (outcome: SessionRotateOutcome['kind'] | 'malformed') => void
}): SessionService {
  const { store, clock } = options
  const spent = (reason: string) => new InvalidGrant('the refresh token is invalid, expired or revoked', { cause: new Error(reason) })

  return {
    async start({ identity, clientId, scope, audience, userAgent }) {
      const now = clock.now()
      const sid = newSessionId()
      const session: Session = {
        sid,
        sub: identity.sub,
        clientId,
        scope,
        audience,
        email: identity.email,
        roles: identity.roles,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: now + options.absoluteTtlSeconds * 1000,
        userAgent,
      }
      const refreshToken = mintRefreshToken(sid)
      await store.create(session, hashRefreshToken(refreshToken))
      return { session, refreshToken }
    },

    async refresh({ refreshToken, clientId, scope, audience }) {
      const sid = sessionIdOf(refreshToken)
      if (sid === undefined) {
        options.onRotate?.('malformed')
        throw spent('not a refresh token')
      }
      // Minted before the script runs so rotation is one round trip; unused when the token is not current.
      const successor = mintRefreshToken(sid)
      const outcome = await store.rotate({
        sid,
        tokenHash: hashRefreshToken(refreshToken),
        clientId,
        nextTokenHash: hashRefreshToken(successor),
        sealedSuccessor: sealSuccessor(refreshToken, successor, sid),
        ...(scope ? { scope } : {}),
        ...(audience !== undefined ? { audience } : {}),
        now: clock.now(),
      })
      options.onRotate?.(outcome.kind)
      switch (outcome.kind) {
        case 'rotated':
          return { session: outcome.session, refreshToken: successor }
        case 'repeated': {
          const first = openSuccessor(refreshToken, outcome.sealedSuccessor, sid)
          if (first === undefined) throw spent(`sealed successor of session ${sid} did not open`)
          return { session: outcome.session, refreshToken: first }
        }
        case 'reused':
          // RFC 9700 §4.14.2: a spent token presented again means it leaked; the whole family is gone.
          throw new InvalidGrant('the refresh token is invalid, expired or revoked', { cause: new RefreshTokenReused(sid, outcome.sub) })
        case 'wrong_client':
          throw spent(`refresh token of session ${sid} presented by another client (${clientId})`)
        case 'invalid_scope':
          throw new InvalidScope('the requested scope exceeds the scope of the session')
        case 'invalid_target':
          throw new InvalidTarget('the session was not started for this audience')
        case 'invalid':
          throw spent('unknown, expired or revoked refresh token')
      }
    },

    async revokeByToken({ token, clientId }) {
      const sid = sessionIdOf(token)
      if (sid === undefined) return 'unknown'
      return store.revokeByToken({ sid, tokenHash: hashRefreshToken(token), clientId })
    },

    async inspectRefreshToken(token) {
      const sid = sessionIdOf(token)
      if (sid === undefined) return undefined
      return store.lookup({ sid, tokenHash: hashRefreshToken(token), now: clock.now() })
    },

    liveSession: (sid) => store.lookup({ sid, now: clock.now() }),

    list: (sub) => store.listForUser(sub, clock.now()),
    revoke: (sub, sid) => store.revokeForUser(sub, sid),
    revokeAll: (sub) => store.revokeAllForUser(sub),
  }
}
