import type { Clock } from '../clock.ts'
import type { KeyStore, StoredKey } from './key-store.ts'
import { ensureKeys, removeExpiredKeys, revokeKey, rotateKeys } from './key-transitions.ts'

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
