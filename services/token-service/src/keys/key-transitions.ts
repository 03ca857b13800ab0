import type { EnsureOutcome, NewKey, RevokeOutcome, RotateInput, RotateOutcome, StoredKey } from './key-store.ts'

/**
 * The lifecycle transitions of SPEC §8 on an in-memory key map: used by the
 * in-process store. The Redis store runs the same rules as Lua scripts
 * (key.scripts.ts); one test suite holds both to the same behaviour.
 * Each function mutates `keys` only after all its checks pass.
 */
type KeyMap = Map<string, StoredKey>

function find(keys: KeyMap, state: StoredKey['state']): StoredKey | undefined {
  for (const key of keys.values()) if (key.state === state) return key
  return undefined
}

function asNext(key: NewKey, now: number): StoredKey {
  return { kid: key.kid, alg: key.alg, state: 'next', createdAt: now, material: key.material }
}

export function ensureKeys(keys: KeyMap, candidates: { current: NewKey; next: NewKey }, now: number): EnsureOutcome {
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

export function rotateKeys(keys: KeyMap, input: RotateInput): RotateOutcome {
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

export function revokeKey(keys: KeyMap, kid: string, now: number, replacement: NewKey): RevokeOutcome {
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

export function removeExpiredKeys(keys: KeyMap, now: number, lifetimeMs: number): string[] {
  const removed: string[] = []
  for (const key of keys.values()) {
    const since = key.state === 'retired' ? key.retiredAt : key.state === 'revoked' ? key.revokedAt : undefined
    if (since !== undefined && since + lifetimeMs <= now) removed.push(key.kid)
  }
  for (const kid of removed) keys.delete(kid)
  return removed
}
