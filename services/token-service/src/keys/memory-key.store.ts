import type { Clock } from '../clock.ts'
import type { KeyEnsureOutcome, KeyRevokeOutcome, KeyRotateInput, KeyRotateOutcome, KeyStore, NewKey, StoredKey } from './key.store.ts'

/**
 * The in-process key store (development without REDIS_URL; config refuses it
 * in production). Same rules as the Redis store; state lives as long as this
 * object and is shared only by the key managers handed this same object.
 */
export function createMemoryKeyStore(options: { clock: Clock }): KeyStore {
  const keys = new Map<string, StoredKey>()
  const locks = new Map<string, { token: string; expiresAt: number }>()
  const listeners = new Set<() => void>()

  // Notified on a later tick, as a pub/sub message would be, so callers never re-enter mid-change.
  const notify = () => {
    for (const listener of listeners) queueMicrotask(listener)
  }
  const changed = <T>(result: T, didChange: boolean): T => {
    if (didChange) notify()
    return result
  }
  const snapshot = () => [...keys.values()].map((key) => structuredClone(key))

  return {
    async list() {
      return snapshot()
    },
    async ensure(candidates, now) {
      const outcome = ensureKeys(keys, structuredClone(candidates), now)
      return changed(outcome, outcome.created.length > 0)
    },
    async rotate(input) {
      const outcome = rotateKeys(keys, structuredClone(input))
      return changed(outcome, outcome.status === 'rotated')
    },
    async revoke(kid, now, replacement) {
      const outcome = revokeKey(keys, kid, now, structuredClone(replacement))
      return changed(outcome, outcome.status === 'revoked')
    },
    async removeExpired(now, lifetimeMs) {
      const removed = removeExpiredKeys(keys, now, lifetimeMs)
      return changed(removed, removed.length > 0)
    },
    async replaceSealedKey(kid, expectedSealed, sealed) {
      const key = keys.get(kid)
      if (!key?.material || key.material.sealedPrivateKey !== expectedSealed) return false
      keys.set(kid, { ...key, material: { ...key.material, sealedPrivateKey: sealed } })
      return true
    },
    // Lock expiry follows the injected clock here (Redis uses its own time for PX).
    async acquireLock(name, token, ttlMs) {
      const held = locks.get(name)
      if (held && held.expiresAt > options.clock.now()) return false
      locks.set(name, { token, expiresAt: options.clock.now() + ttlMs })
      return true
    },
    async releaseLock(name, token) {
      const held = locks.get(name)
      if (!held || held.token !== token) return false
      locks.delete(name)
      return true
    },
    async subscribe(listener) {
      listeners.add(listener)
      return async () => {
        listeners.delete(listener)
      }
    },
    async close() {
      listeners.clear()
    },
  }
}

/**
 * The lifecycle transitions of SPEC §8 on an in-memory key map. The Redis
 * store runs the same rules as Lua scripts (redis-key.scripts.ts); one test
 * suite holds both to the same behaviour. Each function mutates `keys` only
 * after all its checks pass.
 */
type KeyMap = Map<string, StoredKey>

function find(keys: KeyMap, state: StoredKey['state']): StoredKey | undefined {
  for (const key of keys.values()) if (key.state === state) return key
  return undefined
}

function asNext(key: NewKey, now: number): StoredKey {
  return { kid: key.kid, alg: key.alg, state: 'next', createdAt: now, material: key.material }
}

function ensureKeys(keys: KeyMap, candidates: { current: NewKey; next: NewKey }, now: number): KeyEnsureOutcome {
  const created: string[] = []
  if (!find(keys, 'current') && !keys.has(candidates.current.kid)) {
    keys.set(candidates.current.kid, { ...asNext(candidates.current, now), state: 'current', activatedAt: now })
    created.push(candidates.current.kid)
  }
  if (!find(keys, 'next') && !keys.has(candidates.next.kid)) {
    keys.set(candidates.next.kid, asNext(candidates.next, now))
    created.push(candidates.next.kid)
  }
  return { created }
}

function rotateKeys(keys: KeyMap, input: KeyRotateInput): KeyRotateOutcome {
  const current = find(keys, 'current')
  const next = find(keys, 'next')
  if (!current || !next) return { status: 'incomplete' }
  if (input.expectedCurrentKid !== undefined && current.kid !== input.expectedCurrentKid) return { status: 'stale' }
  if (input.activatedBefore !== undefined && (current.activatedAt ?? 0) > input.activatedBefore) return { status: 'not_due' }
  const age = input.now - next.createdAt
  if (!input.force && age < input.minNextAgeMs) return { status: 'too_young', retryAfterMs: input.minNextAgeMs - age }
  if (keys.has(input.newNext.kid)) return { status: 'stale' }
  keys.set(current.kid, { ...current, state: 'retired', retiredAt: input.now })
  keys.set(next.kid, { ...next, state: 'current', activatedAt: input.now })
  keys.set(input.newNext.kid, asNext(input.newNext, input.now))
  return { status: 'rotated', current: next.kid, next: input.newNext.kid, retired: current.kid }
}

function revokeKey(keys: KeyMap, kid: string, now: number, replacement: NewKey): KeyRevokeOutcome {
  const key = keys.get(kid)
  if (!key) return { status: 'not_found' }
  if (key.state === 'revoked') return { status: 'already_revoked' }
  const previousState = key.state
  const { material: _destroyed, ...meta } = key
  keys.set(kid, { ...meta, state: 'revoked', revokedAt: now })
  if (previousState === 'current') {
    const next = find(keys, 'next')
    if (next) {
      keys.set(next.kid, { ...next, state: 'current', activatedAt: now })
      keys.set(replacement.kid, asNext(replacement, now))
    } else {
      keys.set(replacement.kid, { ...asNext(replacement, now), state: 'current', activatedAt: now })
    }
  } else if (previousState === 'next') {
    keys.set(replacement.kid, asNext(replacement, now))
  }
  return { status: 'revoked', previousState, current: find(keys, 'current')?.kid ?? null, next: find(keys, 'next')?.kid ?? null }
}

function removeExpiredKeys(keys: KeyMap, now: number, lifetimeMs: number): string[] {
  const removed: string[] = []
  for (const key of keys.values()) {
    const since = key.state === 'retired' ? key.retiredAt : key.state === 'revoked' ? key.revokedAt : undefined
    if (since !== undefined && since + lifetimeMs <= now) removed.push(key.kid)
  }
  for (const kid of removed) keys.delete(kid)
  return removed
}
