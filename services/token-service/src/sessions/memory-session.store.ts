import type { Clock } from '../clock.ts'
import { byNewest, isLive, type SessionRotateOutcome, type Session, type SessionStore, type SessionStorePolicy } from './session.store.ts'

interface Entry {
  session: Session
  current: string
  previous: { hash: string; spentAt: number; sealedSuccessor: string } | null
  spent: Set<string>
}

/** Sweep expired entries at most this often (the Redis store has key TTLs instead). */
const sweepIntervalMs = 60_000

/**
 * The in-process session store (development only: not shared between
 * instances, lost on exit). Same behaviour as the Redis store; every method
 * runs to completion without awaiting, which makes each one atomic here.
 */
export function createMemorySessionStore(policy: SessionStorePolicy, clock: Clock): SessionStore {
  const entries = new Map<string, Entry>()
  const byUser = new Map<string, Set<string>>()
  let lastSweep = clock.now()

  const copy = (session: Session): Session => ({ ...session, scope: [...session.scope], roles: [...session.roles] })

  function remove(sid: string): Entry | undefined {
    const entry = entries.get(sid)
    if (!entry) return undefined
    entries.delete(sid)
    const sids = byUser.get(entry.session.sub)
    sids?.delete(sid)
    if (sids?.size === 0) byUser.delete(entry.session.sub)
    return entry
  }

  /** The entry if its session is still live at `now`; an ended one is dropped (what a key TTL does). */
  function live(sid: string, now: number): Entry | undefined {
    const entry = entries.get(sid)
    if (!entry) return undefined
    if (!isLive(entry.session, now, policy.idleMs)) {
      remove(sid)
      return undefined
    }
    return entry
  }

  function sweep(now: number): void {
    if (now - lastSweep < sweepIntervalMs) return
    lastSweep = now
    for (const sid of [...entries.keys()]) live(sid, now)
  }

  return {
    async create(session, tokenHash) {
      sweep(clock.now())
      entries.set(session.sid, { session: copy(session), current: tokenHash, previous: null, spent: new Set() })
      const sids = byUser.get(session.sub) ?? new Set<string>()
      sids.add(session.sid)
      byUser.set(session.sub, sids)
      // The Redis store's order: the earliest absolute end first, ties by sid; never the new one.
      const cap = policy.maxPerUser ?? 0
      if (cap > 0 && sids.size > cap) {
        const others = [...sids].filter((sid) => sid !== session.sid).map((sid) => entries.get(sid)!.session)
        others.sort((a, b) => a.expiresAt - b.expiresAt || (a.sid < b.sid ? -1 : 1))
        for (const old of others.slice(0, sids.size - cap)) remove(old.sid)
      }
    },

    async rotate(input): Promise<SessionRotateOutcome> {
      const entry = live(input.sid, input.now)
      if (!entry) return { kind: 'invalid' }
      const hash = input.tokenHash
      const state = hash === entry.current ? 'current' : hash === entry.previous?.hash ? 'previous' : entry.spent.has(hash) ? 'spent' : 'unknown'
      if (state === 'unknown') return { kind: 'invalid' }
      if (entry.session.clientId !== input.clientId) return { kind: 'wrong_client' }
      const repeat = state === 'previous' && entry.previous !== null && input.now - entry.previous.spentAt < policy.graceMs
      if (state === 'spent' || (state === 'previous' && !repeat)) {
        remove(input.sid)
        return { kind: 'reused', sub: entry.session.sub }
      }
      if (input.scope && !input.scope.every((s) => entry.session.scope.includes(s))) return { kind: 'invalid_scope' }
      if (input.audience !== undefined && input.audience !== entry.session.audience) return { kind: 'invalid_target' }
      if (state === 'current') {
        entry.spent.add(hash)
        entry.previous = { hash, spentAt: input.now, sealedSuccessor: input.sealedSuccessor }
        entry.current = input.nextTokenHash
        entry.session.lastUsedAt = input.now
        return { kind: 'rotated', session: copy(entry.session) }
      }
      entry.session.lastUsedAt = input.now
      return { kind: 'repeated', session: copy(entry.session), sealedSuccessor: entry.previous!.sealedSuccessor }
    },

    async revokeByToken({ sid, tokenHash, clientId }) {
      const entry = live(sid, clock.now())
      if (!entry) return 'unknown'
      if (tokenHash !== entry.current && !entry.spent.has(tokenHash)) return 'unknown'
      if (entry.session.clientId !== clientId) return 'wrong_client'
      remove(sid)
      return 'revoked'
    },

    async revokeForUser(sub, sid) {
      const entry = live(sid, clock.now())
      if (!entry || entry.session.sub !== sub) return false
      remove(sid)
      return true
    },

    async revokeAllForUser(sub) {
      const sids = [...(byUser.get(sub) ?? [])]
      const now = clock.now()
      let ended = 0
      for (const sid of sids) {
        if (live(sid, now)) ended += 1
        remove(sid)
      }
      return ended
    },

    async listForUser(sub, now) {
      const sessions: Session[] = []
      for (const sid of [...(byUser.get(sub) ?? [])]) {
        const entry = live(sid, now)
        if (entry) sessions.push(copy(entry.session))
      }
      return sessions.sort(byNewest)
    },

    async lookup({ sid, tokenHash, now }) {
      const entry = entries.get(sid)
      if (!entry || !isLive(entry.session, now, policy.idleMs)) return undefined
      if (tokenHash !== undefined && tokenHash !== entry.current) return undefined
      return copy(entry.session)
    },
  }
}
