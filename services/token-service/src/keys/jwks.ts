import { createHash } from 'node:crypto'
import type { Jwks, PublicJwk } from '@todo-auth/contracts'
import { publicJwkOf } from './key-crypto.ts'
import type { KeyMeta, StoredKey } from './key.store.ts'

/** Timing rules of SPEC §8, in milliseconds. */
export interface KeyTimings {
  /** A next key must be published this long before it may sign: JWKS_MAX_AGE + KEY_PUBLISH_MARGIN. */
  readonly prePublicationMs: number
  /** KEY_ROTATION_INTERVAL. */
  readonly rotationIntervalMs: number
  /** A retired key stays published this long: ACCESS_TOKEN_TTL + CLOCK_TOLERANCE. */
  readonly retiredLifetimeMs: number
}

/** Whether a key belongs in the JWKS at `now`: next, current, and retired keys whose tokens may still be valid. */
export function isPublished(key: KeyMeta, now: number, timings: KeyTimings): boolean {
  if (key.state === 'next' || key.state === 'current') return true
  return key.state === 'retired' && (key.retiredAt ?? 0) + timings.retiredLifetimeMs > now
}

/**
 * When the scheduled rotation is planned: KEY_ROTATION_INTERVAL after the
 * current key started signing, but never before the next key has been
 * published long enough.
 */
export function plannedRotationAt(current: KeyMeta, next: KeyMeta, timings: KeyTimings): number {
  return Math.max((current.activatedAt ?? current.createdAt) + timings.rotationIntervalMs, next.createdAt + timings.prePublicationMs)
}

/** The next moment the published key set is planned to change (rotation or a retired key leaving). */
export function nextPlannedChangeAt(keys: readonly KeyMeta[], timings: KeyTimings, now: number): number | undefined {
  const current = keys.find((k) => k.state === 'current')
  const next = keys.find((k) => k.state === 'next')
  const moments: number[] = []
  if (current && next) moments.push(plannedRotationAt(current, next, timings))
  for (const key of keys) {
    if (key.state === 'retired' && isPublished(key, now, timings)) moments.push((key.retiredAt ?? 0) + timings.retiredLifetimeMs)
  }
  return moments.length > 0 ? Math.min(...moments) : undefined
}

/** Cache lifetime of the JWKS: at most JWKS_MAX_AGE and never past the next planned change. */
export function jwksMaxAge(keys: readonly KeyMeta[], timings: KeyTimings, maxAgeSeconds: number, now: number): number {
  const change = nextPlannedChangeAt(keys, timings, now)
  if (change === undefined) return maxAgeSeconds
  return Math.max(0, Math.min(maxAgeSeconds, Math.floor((change - now) / 1000)))
}

const stateOrder = { current: 0, next: 1, retired: 2, revoked: 3 } as const

/**
 * The public key set, in a stable order (every instance with the same keys
 * produces the same bytes, hence the same ETag), with public members only.
 */
export function buildJwks(keys: readonly StoredKey[], timings: KeyTimings, now: number): { body: Jwks; serialized: string; etag: string } {
  const published: PublicJwk[] = keys
    .filter((key) => key.material && isPublished(key, now, timings))
    .sort((a, b) => stateOrder[a.state] - stateOrder[b.state] || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1))
    .map((key) => publicJwkOf(key.material!.publicJwk, key.kid, key.alg))
  const body: Jwks = { keys: published }
  const serialized = JSON.stringify(body)
  return { body, serialized, etag: strongEtag(serialized) }
}

export function strongEtag(serialized: string): string {
  return `"${createHash('sha256').update(serialized).digest('base64url').slice(0, 27)}"`
}
