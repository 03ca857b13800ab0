import type { KeyEncryptionKey } from './key-crypto.ts'
import { openPrivateJwk, sealedWith, sealPrivateJwk } from './key-crypto.ts'
import type { KeyStore } from './key.store.ts'

export interface ReencryptReport {
  /** Kids now sealed under the new KEK by this run. */
  readonly reencrypted: readonly string[]
  /** Kids already sealed under the new KEK. */
  readonly unchanged: readonly string[]
  /** Kids this run could not open (sealed under a KEK that is not configured); their ids only. */
  readonly failed: readonly { kid: string; reason: string }[]
}

/**
 * KEY_ENCRYPTION_KEY rotation: re-seals every stored private key under
 * `keks[0]` (the new KEK), opening it with whichever of `keks` sealed it. No
 * kid, public key or state changes; each swap is a compare-and-set, so a key
 * changed concurrently is read again rather than overwritten.
 */
export async function reencryptKeys(store: KeyStore, keks: readonly KeyEncryptionKey[]): Promise<ReencryptReport> {
  const target = keks[0]
  if (!target) throw new Error('no key-encryption key configured')
  const reencrypted: string[] = []
  const unchanged: string[] = []
  const failed: { kid: string; reason: string }[] = []
  for (let attempt = 0; attempt < 3; attempt++) {
    let conflicts = 0
    for (const key of await store.list()) {
      if (!key.material || reencrypted.includes(key.kid) || failed.some((f) => f.kid === key.kid)) continue
      const sealed = key.material.sealedPrivateKey
      if (sealedWith(sealed) === target.id) {
        if (!unchanged.includes(key.kid)) unchanged.push(key.kid)
        continue
      }
      let resealed: string
      try {
        resealed = sealPrivateJwk(openPrivateJwk(sealed, key.kid, keks), key.kid, target)
      } catch (error) {
        failed.push({ kid: key.kid, reason: (error as Error).message })
        continue
      }
      if (await store.replaceSealedKey(key.kid, sealed, resealed)) reencrypted.push(key.kid)
      else conflicts++
    }
    if (conflicts === 0) break
  }
  return { reencrypted, unchanged, failed }
}
