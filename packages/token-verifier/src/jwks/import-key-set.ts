import { importJWK, type CryptoKey } from 'jose'
import { keyFitsAlgorithm, publicJwk } from './key-algorithms.ts'

// Which keys of a JWKS document a remote key set holds, and how a JWS header finds one.

export interface KeyEntry {
  kid: string | undefined
  alg: string
  key: CryptoKey
  /** alg, kid and public members: identifies the same key across documents. */
  fingerprint: string
}

/** The keys of one document, and the same keys by kid (lookups by kid only ever go through this Map). */
export interface KeySetKeys {
  readonly entries: readonly KeyEntry[]
  readonly byKid: ReadonlyMap<string, readonly KeyEntry[]>
}

/** The alg a JWK may be used with, or undefined when it is unusable here. */
function algorithmOf(jwk: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  if (jwk.alg !== undefined) {
    return typeof jwk.alg === 'string' && allowed.has(jwk.alg) && keyFitsAlgorithm(jwk, jwk.alg) ? jwk.alg : undefined
  }
  const fitting = [...allowed].filter((alg) => keyFitsAlgorithm(jwk, alg))
  return fitting.length === 1 ? fitting[0] : undefined
}

/**
 * The usable signing keys of a JWKS document: `use` sig (or absent), `key_ops` with verify (or absent),
 * a non-empty string kid (or none), an alg that is allowed and fits the key, public members only.
 * A key already imported from `previous` (same alg, kid and members) is reused, not imported again.
 */
export async function importKeySet(document: unknown, previous: readonly KeyEntry[], allowed: ReadonlySet<string>): Promise<KeySetKeys> {
  if (typeof document !== 'object' || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new Error('JWKS document is not an object with a keys array')
  }
  const known = new Map(previous.map((entry) => [entry.fingerprint, entry.key]))
  const imports: Promise<KeyEntry | undefined>[] = []
  for (const candidate of (document as { keys: unknown[] }).keys) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) continue
    const jwk = candidate as Record<string, unknown>
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length === 0)) continue
    const alg = algorithmOf(jwk, allowed)
    const members = publicJwk(jwk)
    if (alg === undefined || members === undefined) continue
    const kid = jwk.kid as string | undefined
    const fingerprint = JSON.stringify([alg, kid ?? null, members])
    const reused = known.get(fingerprint)
    if (reused) {
      imports.push(Promise.resolve({ kid, alg, key: reused, fingerprint }))
      continue
    }
    imports.push(
      importJWK({ ...members, alg, ext: false }, alg).then(
        (key) => (key instanceof Uint8Array ? undefined : { kid, alg, key, fingerprint }),
        () => undefined,
      ),
    )
  }
  const entries = (await Promise.all(imports)).filter((entry): entry is KeyEntry => entry !== undefined)
  return { entries, byKid: indexByKid(entries) }
}

function indexByKid(entries: readonly KeyEntry[]): Map<string, KeyEntry[]> {
  const byKid = new Map<string, KeyEntry[]>()
  for (const entry of entries) {
    if (entry.kid === undefined) continue
    const list = byKid.get(entry.kid)
    if (list) list.push(entry)
    else byKid.set(entry.kid, [entry])
  }
  return byKid
}

/** The key for this alg and kid; without a kid, the only key of that alg. */
export function lookupKey(keys: KeySetKeys, alg: string, kid: string | undefined): CryptoKey | undefined {
  const pool = kid === undefined ? keys.entries : keys.byKid.get(kid)
  if (pool === undefined) return undefined
  // Without a kid, only an unambiguous key is acceptable. No allocation: this runs on every cache hit.
  let found: CryptoKey | undefined
  for (const entry of pool) {
    if (entry.alg !== alg) continue
    if (found !== undefined) return undefined
    found = entry.key
  }
  return found
}
