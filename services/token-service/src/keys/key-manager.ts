import type { FastifyBaseLogger } from 'fastify'
import type { CryptoKey } from 'jose'
import type { Jwks } from '@todo-auth/contracts'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import { generateSigningKey, keyEncryptionKeys } from './key-crypto.ts'
import { keyEventEmitter, type KeyEvent } from './key-events.ts'
import { NextKeyTooYoungError, UnknownKeyError } from './key.errors.ts'
import { createKeySchedule } from './key-schedule.ts'
import { createKeySet, withoutMaterial, type SigningKey } from './key-set.ts'
import type { KeyMeta, KeyRevokeOutcome, KeyStore } from './key.store.ts'
import { keyTimings, type KeyTimings } from './key-timings.ts'

export interface KeyManager {
  /** Loads the key set; creates current + next atomically if none (several instances starting together create exactly one pair). */
  init(): Promise<void>
  /** The current key, decrypted once at load (never per request); throws KeysNotLoadedError if not loaded. */
  signingKey(): SigningKey
  /** A published (current/next/retired, not revoked) public key, for verifying our own access tokens locally. */
  verificationKey(header: { alg?: string; kid?: string }): Promise<CryptoKey>
  jwks(): { body: Jwks; etag: string; maxAgeSeconds: number }
  readonly loaded: boolean
  close(): Promise<void>
}

/** The operator side of the key set (admin API, scheduler, tests). */
export interface KeyLifecycle extends KeyManager {
  readonly timings: KeyTimings
  /** The lifecycle facts of the key set as last loaded (no store round trip; for metrics). */
  snapshot(): readonly KeyMeta[]
  /** Every stored key's lifecycle facts, fresh from the store. */
  list(): Promise<KeyMeta[]>
  /** Operator rotation; NextKeyTooYoungError (409) unless the next key is old enough or `force`. */
  rotate(options: { force: boolean }): Promise<{ current: string; next: string; retired: string }>
  /** Emergency revocation; UnknownKeyError (404) for an unknown kid. */
  revoke(kid: string): Promise<Extract<KeyRevokeOutcome, { status: 'revoked' }> | { status: 'already_revoked' }>
  /** Reloads from the store (creating missing keys), removes expired keys and runs a due scheduled rotation under the fleet lock. */
  maintain(): Promise<void>
  /** Reloads the key set from the store now. */
  reload(): Promise<void>
}

export interface KeyManagerOptions {
  config: Config
  store: KeyStore
  clock: Clock
  log: FastifyBaseLogger
  onEvent?: (event: KeyEvent) => void
  /** Expiry of the rotation lock: a holder that dies frees it after this long. Default 30 s. */
  lockTtlMs?: number
  /** Period of the background reload + maintenance. Default KEY_RELOAD_INTERVAL. */
  reloadIntervalMs?: number
  /** Whether to run the background loop and the change subscription (tests of single steps turn it off). Default true. */
  background?: boolean
}

/** The key set (key-set.ts), its schedule (key-schedule.ts) and the operator's rotate/revoke, over one store. */
export function createKeyManager(options: KeyManagerOptions): KeyLifecycle {
  const { config, store, clock, log } = options
  const keks = keyEncryptionKeys(config, log)
  const generate = () => generateSigningKey(config.SIGNING_ALG, keks[0]!)
  const timings = keyTimings(config)
  const emit = keyEventEmitter(log, options.onEvent)
  const keySet = createKeySet({ store, clock, log, keks, timings, jwksMaxAgeSeconds: config.JWKS_MAX_AGE, generate, emit })
  const schedule = createKeySchedule({
    store,
    clock,
    log,
    keySet,
    timings,
    generate,
    emit,
    lockTtlMs: options.lockTtlMs ?? 30_000,
    reloadIntervalMs: options.reloadIntervalMs ?? config.KEY_RELOAD_INTERVAL * 1000,
  })
  let started = false
  let unsubscribe: (() => Promise<void>) | undefined

  return {
    timings,
    get loaded() {
      return keySet.loaded
    },

    async init() {
      if (!started && options.background !== false) {
        started = true
        unsubscribe = await store.subscribe(() => {
          keySet.reload().catch((error: unknown) => log.warn({ err: error }, 'key reload after a change notification failed'))
        })
        schedule.start()
      }
      await keySet.reload()
    },

    signingKey: () => keySet.signingKey(),
    verificationKey: (header) => keySet.verificationKey(header),
    jwks: () => keySet.jwks(),

    async list() {
      return withoutMaterial(await store.list())
    },

    async rotate({ force }) {
      const newNext = await generate()
      let outcome = await store.rotate({ now: clock.now(), newNext, minNextAgeMs: timings.prePublicationMs, force })
      if (outcome.status === 'incomplete') {
        await keySet.reload()
        outcome = await store.rotate({ now: clock.now(), newNext, minNextAgeMs: timings.prePublicationMs, force })
      }
      if (outcome.status === 'too_young') throw new NextKeyTooYoungError(Math.ceil(outcome.retryAfterMs / 1000))
      if (outcome.status !== 'rotated') throw new Error(`rotation did not happen: ${outcome.status}`)
      emit({ type: 'rotated', trigger: 'admin', forced: force, current: outcome.current, next: outcome.next, retired: outcome.retired })
      await keySet.reload()
      return { current: outcome.current, next: outcome.next, retired: outcome.retired }
    },

    async revoke(kid) {
      const replacement = await generate()
      const outcome = await store.revoke(kid, clock.now(), replacement)
      if (outcome.status === 'not_found') throw new UnknownKeyError()
      if (outcome.status === 'revoked') emit({ type: 'revoked', kid, previousState: outcome.previousState, current: outcome.current, next: outcome.next })
      // Out of this instance's JWKS and verification at once, even if the reload below fails.
      keySet.forget(kid, outcome.status === 'revoked' ? outcome.current : null)
      await keySet.reload()
      return outcome
    },

    maintain: schedule.maintain,
    reload: keySet.reload,
    snapshot: () => withoutMaterial(keySet.stored()),

    async close() {
      schedule.stop()
      keySet.stop()
      await unsubscribe?.()
      await keySet.settled()
    },
  }
}
