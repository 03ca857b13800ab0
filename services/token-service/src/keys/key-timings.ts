import type { Config } from '../config.ts'
import type { KeyMeta } from './key.store.ts'

/** Timing rules of SPEC §8, in milliseconds. */
export interface KeyTimings {
  /** A next key must be published this long before it may sign: JWKS_MAX_AGE + KEY_PUBLISH_MARGIN. */
  readonly prePublicationMs: number
  /** KEY_ROTATION_INTERVAL. */
  readonly rotationIntervalMs: number
  /** A retired key stays published this long: ACCESS_TOKEN_TTL + CLOCK_TOLERANCE. */
  readonly retiredLifetimeMs: number
}

export function keyTimings(config: Config): KeyTimings {
  return {
    prePublicationMs: (config.JWKS_MAX_AGE + config.KEY_PUBLISH_MARGIN) * 1000,
    rotationIntervalMs: config.KEY_ROTATION_INTERVAL * 1000,
    retiredLifetimeMs: (config.ACCESS_TOKEN_TTL + config.CLOCK_TOLERANCE) * 1000,
  }
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
