import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import { StoreUnavailableError } from '../errors.ts'
import type { EmitKeyEvent } from './key-events.ts'
import type { KeySet } from './key-set.ts'
import type { KeyStore, NewKey } from './key.store.ts'
import { plannedRotationAt, type KeyTimings } from './key-timings.ts'

/** The background side of the key set: expiry, the scheduled rotation (once per fleet) and the timer driving both. */
export interface KeySchedule {
  /** Reloads (creating missing keys), removes expired keys and runs a due scheduled rotation under the fleet lock. */
  maintain(): Promise<void>
  /** Starts the maintenance timer: every `reloadIntervalMs`, or every second while no key set is loaded. */
  start(): void
  stop(): void
}

export interface KeyScheduleOptions {
  store: KeyStore
  clock: Clock
  log: FastifyBaseLogger
  keySet: KeySet
  timings: KeyTimings
  generate: () => Promise<NewKey>
  emit: EmitKeyEvent
  /** Expiry of the rotation lock: a holder that dies frees it after this long. */
  lockTtlMs: number
  reloadIntervalMs: number
}

const rotationLock = 'rotation'
/** While no key set is loaded the background loop retries this often. */
const retryWhileUnloadedMs = 1000

export function createKeySchedule(options: KeyScheduleOptions): KeySchedule {
  const { store, clock, log, keySet, timings, emit } = options
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  async function maintain(): Promise<void> {
    await keySet.reload()
    const now = clock.now()
    const stored = keySet.stored()
    const expired = stored.filter((k) => {
      const since = k.state === 'retired' ? k.retiredAt : k.state === 'revoked' ? k.revokedAt : undefined
      return since !== undefined && since + timings.retiredLifetimeMs <= now
    })
    if (expired.length > 0) {
      const removed = await store.removeExpired(now, timings.retiredLifetimeMs)
      if (removed.length > 0) emit({ type: 'removed', kids: removed })
    }
    const cur = stored.find((k) => k.state === 'current')
    const next = stored.find((k) => k.state === 'next')
    if (cur && next && now >= plannedRotationAt(cur, next, timings)) await scheduledRotation(cur.kid)
    if (expired.length > 0) await keySet.reload()
  }

  /** Once per fleet: the lock elects one instance; the script's expected-current check makes a late second attempt a no-op. */
  async function scheduledRotation(expectedCurrentKid: string): Promise<void> {
    const token = randomBytes(16).toString('base64url')
    if (!(await store.acquireLock(rotationLock, token, options.lockTtlMs))) return
    try {
      const newNext = await options.generate()
      const now = clock.now()
      const outcome = await store.rotate({
        now,
        newNext,
        minNextAgeMs: timings.prePublicationMs,
        force: false,
        expectedCurrentKid,
        activatedBefore: now - timings.rotationIntervalMs,
      })
      if (outcome.status === 'rotated') emit({ type: 'rotated', trigger: 'schedule', forced: false, current: outcome.current, next: outcome.next, retired: outcome.retired })
    } finally {
      await store.releaseLock(rotationLock, token).catch((error: unknown) => log.warn({ err: error }, 'cannot release the rotation lock; it expires by itself'))
    }
    await keySet.reload()
  }

  function start(): void {
    if (stopped) return
    timer = setTimeout(
      () => {
        maintain()
          .catch((error: unknown) => {
            const level = error instanceof StoreUnavailableError ? 'warn' : 'error'
            log[level]({ err: error }, 'key maintenance failed; retrying')
          })
          .finally(start)
      },
      keySet.loaded ? options.reloadIntervalMs : retryWhileUnloadedMs,
    )
    timer.unref()
  }

  return {
    maintain,
    start,
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}
