import type { KeyObject } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { errors as joseErrors, type CryptoKey } from 'jose'
import type { Jwks } from '@todo-auth/contracts'
import type { Clock } from '../clock.ts'
import { importPrivateKey, importPublicKey, type KeyEncryptionKey } from './key-crypto.ts'
import type { EmitKeyEvent } from './key-events.ts'
import { KeysNotLoadedError } from './key.errors.ts'
import type { KeyMeta, KeyStore, NewKey, StoredKey } from './key.store.ts'
import { isPublished, type KeyTimings } from './key-timings.ts'
import { buildJwks, jwksMaxAge } from './jwks.ts'

export interface SigningKey {
  readonly kid: string
  readonly alg: 'ES256' | 'EdDSA' | 'RS256'
  readonly privateKey: KeyObject
}

/**
 * This instance's copy of the key set: loaded from the store (creating the
 * first pair if missing), the current key decrypted once, the public keys
 * for verification, and the JWKS built from it.
 */
export interface KeySet {
  /** Reloads from the store; reloads are coalesced (one at a time, a request during one causes exactly one more). */
  reload(): Promise<void>
  readonly loaded: boolean
  signingKey(): SigningKey
  verificationKey(header: { alg?: string; kid?: string }): Promise<CryptoKey>
  jwks(): { body: Jwks; etag: string; maxAgeSeconds: number }
  /** The stored keys as last loaded, material included. */
  stored(): readonly StoredKey[]
  /** Drops `kid` from this instance at once (revocation), promoting `promotedKid` if it was current. */
  forget(kid: string, promotedKid: string | null): void
  /** Ends the coalescing loop: a reload running now does not go round again. */
  stop(): void
  /** Resolves once no reload is in flight (its failure ignored). */
  settled(): Promise<void>
}

export interface KeySetOptions {
  store: KeyStore
  clock: Clock
  log: FastifyBaseLogger
  keks: readonly KeyEncryptionKey[]
  timings: KeyTimings
  /** JWKS_MAX_AGE in seconds. */
  jwksMaxAgeSeconds: number
  generate: () => Promise<NewKey>
  emit: EmitKeyEvent
}

interface Entry {
  readonly meta: StoredKey
  readonly publicKey: CryptoKey
  readonly privateKey?: KeyObject
}

/** At most one store reload per this many ms is triggered by an unknown kid (a kid flood must not hammer Redis). */
const unknownKidReloadCooldownMs = 1000

export function createKeySet(options: KeySetOptions): KeySet {
  const { store, clock, log, keks, timings, emit } = options
  let entries = new Map<string, Entry>()
  let current: SigningKey | undefined
  let stored: StoredKey[] = []
  let jwksCache: { body: Jwks; etag: string; validUntil: number } | undefined
  let closed = false
  let lastUnknownKidReload = -Infinity

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
      const [first, second] = await Promise.all([options.generate(), options.generate()])
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
          privateKey = importPrivateKey(key.material.sealedPrivateKey, key.kid, key.alg, keks)
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

  return {
    reload,
    get loaded() {
      return current !== undefined
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
      return { body, etag, maxAgeSeconds: jwksMaxAge(stored, timings, options.jwksMaxAgeSeconds, clock.now()) }
    },

    stored: () => stored,

    forget(kid, promotedKid) {
      entries.delete(kid)
      stored = stored.map((k) => (k.kid === kid ? { ...k, state: 'revoked' as const } : k))
      jwksCache = undefined
      if (current?.kid === kid) {
        const promoted = promotedKid ? entries.get(promotedKid) : undefined
        current = promoted?.privateKey ? { kid: promoted.meta.kid, alg: promoted.meta.alg, privateKey: promoted.privateKey } : undefined
      }
    },

    stop() {
      closed = true
    },

    async settled() {
      await inFlight?.catch(() => undefined)
    },
  }
}

/** Lifecycle facts only: the material never leaves through metrics or the admin API. */
export function withoutMaterial(keys: readonly StoredKey[]): KeyMeta[] {
  return keys.map(({ material: _material, ...meta }) => meta)
}
