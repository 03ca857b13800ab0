import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { errors as joseErrors, type CryptoKey } from 'jose'
import type { Jwks } from '@todo-auth/contracts'
import type { Clock } from '../clock.ts'
import type { Config } from '../config.ts'
import { StoreUnavailableError } from '../errors.ts'
import { generateSigningKey, importPrivateKey, importPublicKey, keyEncryptionKey, type KeyEncryptionKey } from './key-crypto.ts'
import { KeysNotLoadedError, NextKeyTooYoungError, UnknownKeyError } from './key.errors.ts'
import type { KeyMeta, KeyStore, KeyRevokeOutcome, SigningAlg, StoredKey } from './key.store.ts'
import { buildJwks, isPublished, jwksMaxAge, plannedRotationAt, type KeyTimings } from './jwks.ts'

export interface SigningKey {
  readonly kid: string
  readonly alg: 'ES256' | 'EdDSA' | 'RS256'
  readonly privateKey: CryptoKey
}

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

/** What the key manager reports for audit logs and metrics. Only kids, never key material. */
export type KeyEvent =
  | { type: 'created'; kids: readonly string[] }
  | { type: 'rotated'; trigger: 'schedule' | 'admin'; forced: boolean; current: string; next: string; retired: string }
  | { type: 'revoked'; kid: string; previousState: string; current: string | null; next: string | null }
  | { type: 'removed'; kids: readonly string[] }

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

interface Entry {
  readonly meta: StoredKey
  readonly publicKey: CryptoKey
  readonly privateKey?: CryptoKey
}

const rotationLock = 'rotation'
/** While no key set is loaded the background loop retries this often. */
const retryWhileUnloadedMs = 1000
/** At most one store reload per this many ms is triggered by an unknown kid (a kid flood must not hammer Redis). */
const unknownKidReloadCooldownMs = 1000

/** Key-encryption keys from config; without KEY_ENCRYPTION_KEY (development, in-process store only) a random one lives in memory. */
export function keyEncryptionKeys(config: Config, log: FastifyBaseLogger): KeyEncryptionKey[] {
  if (!config.KEY_ENCRYPTION_KEY) {
    log.warn('KEY_ENCRYPTION_KEY is not set: using a random in-memory key-encryption key (development only)')
    return [keyEncryptionKey(randomBytes(32))]
  }
  const keks = [keyEncryptionKey(config.KEY_ENCRYPTION_KEY)]
  if (config.KEY_ENCRYPTION_KEY_PREVIOUS) keks.push(keyEncryptionKey(config.KEY_ENCRYPTION_KEY_PREVIOUS))
  return keks
}

export function keyTimings(config: Config): KeyTimings {
  return {
    prePublicationMs: (config.JWKS_MAX_AGE + config.KEY_PUBLISH_MARGIN) * 1000,
    rotationIntervalMs: config.KEY_ROTATION_INTERVAL * 1000,
    retiredLifetimeMs: (config.ACCESS_TOKEN_TTL + config.CLOCK_TOLERANCE) * 1000,
  }
}

export function createKeyManager(options: KeyManagerOptions): KeyLifecycle {
  const { config, store, clock, log } = options
  const alg: SigningAlg = config.SIGNING_ALG
  const keks = keyEncryptionKeys(config, log)
  const sealingKek = keks[0]!
  const timings = keyTimings(config)
  const lockTtlMs = options.lockTtlMs ?? 30_000
  const reloadIntervalMs = options.reloadIntervalMs ?? config.KEY_RELOAD_INTERVAL * 1000
  const emit = (event: KeyEvent) => {
    const { type, ...facts } = event
    log.info({ event: `key_${type}`, ...facts }, `signing key ${type}`)
    options.onEvent?.(event)
  }

  let entries = new Map<string, Entry>()
  let current: SigningKey | undefined
  let stored: StoredKey[] = []
  let jwksCache: { body: Jwks; etag: string; validUntil: number } | undefined
  let started = false
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let unsubscribe: (() => Promise<void>) | undefined
  let lastUnknownKidReload = -Infinity

  // Reloads are coalesced: one at a time, and a request arriving during one causes exactly one more.
  let inFlight: Promise<void> | undefined
  let again = false
  function reload(): Promise<void> {
    if (inFlight) {
      again = true
      return inFlight
    }
    inFlight = (async () => {
      try {
        do {
          again = false
          await loadOnce()
        } while (again && !closed)
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  async function loadOnce(): Promise<void> {
    let keys = await store.list()
    if (!keys.some((k) => k.state === 'current') || !keys.some((k) => k.state === 'next')) {
      const [first, second] = await Promise.all([generateSigningKey(alg, sealingKek), generateSigningKey(alg, sealingKek)])
      const { created } = await store.ensure({ current: first, next: second }, clock.now())
      if (created.length > 0) emit({ type: 'created', kids: created })
      keys = await store.list()
    }
    await apply(keys)
  }

  async function apply(keys: StoredKey[]): Promise<void> {
    const fresh = new Map<string, Entry>()
    for (const key of keys) {
      if (key.state === 'revoked' || !key.material) continue
      const old = entries.get(key.kid)
      const publicKey = old?.publicKey ?? (await importPublicKey(key.material.publicJwk))
      let privateKey = old?.privateKey
      // Only keys that sign now or may sign next are decrypted, once, here; never per request.
      if (!privateKey && (key.state === 'current' || key.state === 'next')) {
        try {
          privateKey = await importPrivateKey(key.material.sealedPrivateKey, key.kid, key.alg, keks)
        } catch (error) {
          if (key.state === 'current') throw error
          log.error({ err: error, kid: key.kid }, 'cannot decrypt the next signing key')
        }
      }
      fresh.set(key.kid, { meta: key, publicKey, ...(privateKey ? { privateKey } : {}) })
    }
    const currentMeta = keys.find((k) => k.state === 'current')
    const currentEntry = currentMeta ? fresh.get(currentMeta.kid) : undefined
    if (!currentEntry?.privateKey) throw new Error('the store has no usable current key')
    entries = fresh
    stored = keys
    jwksCache = undefined
    if (current?.kid !== currentEntry.meta.kid) {
      current = { kid: currentEntry.meta.kid, alg: currentEntry.meta.alg, privateKey: currentEntry.privateKey }
      log.info({ event: 'signing_key_loaded', kid: current.kid }, 'signing with key')
    }
  }

  function currentJwks() {
    const now = clock.now()
    if (!jwksCache || now >= jwksCache.validUntil) {
      const { body, etag } = buildJwks(stored, timings, now)
      // A retired key leaving the set changes the body: rebuild then.
      const expiries = stored.filter((k) => k.state === 'retired' && isPublished(k, now, timings)).map((k) => (k.retiredAt ?? 0) + timings.retiredLifetimeMs)
      jwksCache = { body, etag, validUntil: Math.min(Infinity, ...expiries) }
    }
    return jwksCache
  }

  async function maintain(): Promise<void> {
    await reload()
    const now = clock.now()
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
    if (expired.length > 0) await reload()
  }

  /** Once per fleet: the lock elects one instance; the script's expected-current check makes a late second attempt a no-op. */
  async function scheduledRotation(expectedCurrentKid: string): Promise<void> {
    const token = randomBytes(16).toString('base64url')
    if (!(await store.acquireLock(rotationLock, token, lockTtlMs))) return
    try {
      const newNext = await generateSigningKey(alg, sealingKek)
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
    await reload()
  }

  function schedule(): void {
    if (closed) return
    timer = setTimeout(
      () => {
        maintain()
          .catch((error: unknown) => {
            const level = error instanceof StoreUnavailableError ? 'warn' : 'error'
            log[level]({ err: error }, 'key maintenance failed; retrying')
          })
          .finally(schedule)
      },
      current ? reloadIntervalMs : retryWhileUnloadedMs,
    )
    timer.unref()
  }

  return {
    timings,
    get loaded() {
      return current !== undefined
    },

    async init() {
      if (!started && options.background !== false) {
        started = true
        unsubscribe = await store.subscribe(() => {
          reload().catch((error: unknown) => log.warn({ err: error }, 'key reload after a change notification failed'))
        })
        schedule()
      }
      await reload()
    },

    signingKey() {
      if (!current) throw new KeysNotLoadedError()
      return current
    },

    async verificationKey(header) {
      const { kid, alg: headerAlg } = header
      if (typeof kid !== 'string' || typeof headerAlg !== 'string') throw new joseErrors.JWKSNoMatchingKey()
      let entry = entries.get(kid)
      // Keys are pre-published, so an unknown kid is rare: reload at most once per cooldown.
      if (!entry && performance.now() - lastUnknownKidReload >= unknownKidReloadCooldownMs) {
        lastUnknownKidReload = performance.now()
        await reload().catch((error: unknown) => log.warn({ err: error }, 'key reload for an unknown kid failed'))
        entry = entries.get(kid)
      }
      // One key, one algorithm (checklist R03): the header's alg must be the key's.
      if (!entry || entry.meta.alg !== headerAlg || !isPublished(entry.meta, clock.now(), timings)) throw new joseErrors.JWKSNoMatchingKey()
      return entry.publicKey
    },

    jwks() {
      if (!current) throw new KeysNotLoadedError()
      const { body, etag } = currentJwks()
      return { body, etag, maxAgeSeconds: jwksMaxAge(stored, timings, config.JWKS_MAX_AGE, clock.now()) }
    },

    async list() {
      const keys = await store.list()
      return keys.map(({ material: _material, ...meta }) => meta)
    },

    async rotate({ force }) {
      const newNext = await generateSigningKey(alg, sealingKek)
      let outcome = await store.rotate({ now: clock.now(), newNext, minNextAgeMs: timings.prePublicationMs, force })
      if (outcome.status === 'incomplete') {
        await reload()
        outcome = await store.rotate({ now: clock.now(), newNext, minNextAgeMs: timings.prePublicationMs, force })
      }
      if (outcome.status === 'too_young') throw new NextKeyTooYoungError(Math.ceil(outcome.retryAfterMs / 1000))
      if (outcome.status !== 'rotated') throw new Error(`rotation did not happen: ${outcome.status}`)
      emit({ type: 'rotated', trigger: 'admin', forced: force, current: outcome.current, next: outcome.next, retired: outcome.retired })
      await reload()
      return { current: outcome.current, next: outcome.next, retired: outcome.retired }
    },

    async revoke(kid) {
      const replacement = await generateSigningKey(alg, sealingKek)
      const outcome = await store.revoke(kid, clock.now(), replacement)
      if (outcome.status === 'not_found') throw new UnknownKeyError()
      if (outcome.status === 'revoked') emit({ type: 'revoked', kid, previousState: outcome.previousState, current: outcome.current, next: outcome.next })
      // Out of this instance's JWKS and verification at once, even if the reload below fails.
      entries.delete(kid)
      stored = stored.map((k) => (k.kid === kid ? { ...k, state: 'revoked' as const } : k))
      jwksCache = undefined
      if (current?.kid === kid) {
        const promoted = outcome.status === 'revoked' && outcome.current ? entries.get(outcome.current) : undefined
        current = promoted?.privateKey ? { kid: promoted.meta.kid, alg: promoted.meta.alg, privateKey: promoted.privateKey } : undefined
      }
      await reload()
      return outcome
    },

    maintain,
    reload,

    snapshot() {
      return stored.map(({ material: _material, ...meta }) => meta)
    },

    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await unsubscribe?.()
      await inFlight?.catch(() => undefined)
    },
  }
}
