import { createHash } from 'node:crypto'
import type { Jwks, PublicJwk } from '@todo-auth/contracts'
import { publicJwkOf } from './key-crypto.ts'
import type { KeyMeta, StoredKey } from './key.store.ts'
import { isPublished, nextPlannedChangeAt, type KeyTimings } from './key-timings.ts'

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
