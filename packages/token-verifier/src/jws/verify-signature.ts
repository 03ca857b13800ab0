import { constants, KeyObject, verify, webcrypto } from 'node:crypto'
import type { CryptoKey } from 'jose'

// The signature step of a JWS (RFC 7515 §5.2 step 8) with node:crypto, synchronously: WebCrypto's
// verify runs on libuv's thread pool, and on a busy server the hand-off and its promise cost more
// CPU than the ECDSA verification itself. The checks on the key are jose's (lib/key.js): the key's
// algorithm must be the one `alg` names, with the same hash and curve, usable for `verify`, public,
// RSA of at least 2048 bits. A CryptoKey needs a KeyObject twin for that: the key set registers one
// per imported key ({@link registerKeyObject}); an extractable CryptoKey is converted; a
// non-extractable one of another resolver (Node deprecates converting those, DEP0204) is verified
// through WebCrypto, as jose did.

interface JwsAlgorithm {
  /** The digest of crypto.verify; null for Ed25519 (the algorithm hashes internally). */
  digest: string | null
  /** What the CryptoKey's `algorithm` must say. */
  webCrypto: { name: string; hash?: string; namedCurve?: string }
  /** What a KeyObject's asymmetricKeyType must be (and its curve, for EC). */
  keyType: string
  curve?: string
  /** Exact length in bytes, where the algorithm fixes it (RFC 7518 §3.4: ECDSA is R‖S, each the curve's size). */
  signatureLength?: number
  options: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number }
  minRsaBits?: number
  /** WebCrypto's parameters of verify, for a CryptoKey that has no KeyObject. */
  subtle: { name: string; hash?: string; saltLength?: number }
}

const ecdsa = (bits: 256 | 384 | 512, namedCurve: string, curve: string, signatureLength: number): JwsAlgorithm => ({
  digest: `sha${bits}`,
  webCrypto: { name: 'ECDSA', namedCurve },
  keyType: 'ec',
  curve,
  signatureLength,
  subtle: { name: 'ECDSA', hash: `SHA-${bits}` },
  // IEEE P1363 (R‖S) is the JWS form; the DER form is never accepted.
  options: { dsaEncoding: 'ieee-p1363' },
})
const eddsa: JwsAlgorithm = { digest: null, webCrypto: { name: 'Ed25519' }, keyType: 'ed25519', signatureLength: 64, options: {}, subtle: { name: 'Ed25519' } }
const rsa = (bits: 256 | 384 | 512, pss: boolean): JwsAlgorithm => ({
  digest: `sha${bits}`,
  webCrypto: { name: pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: `SHA-${bits}` },
  keyType: 'rsa',
  // RFC 7518 §3.5: the salt is as long as the digest (RSA_PSS_SALTLEN_DIGEST: exactly that, when verifying).
  options: pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : { padding: constants.RSA_PKCS1_PADDING },
  minRsaBits: 2048,
  subtle: pss ? { name: 'RSA-PSS', saltLength: bits >> 3 } : { name: 'RSASSA-PKCS1-v1_5' },
})

/** Every algorithm of src/jwks/key-algorithms.ts; nothing else verifies. */
const algorithms: Readonly<Record<string, JwsAlgorithm>> = {
  ES256: ecdsa(256, 'P-256', 'prime256v1', 64),
  ES384: ecdsa(384, 'P-384', 'secp384r1', 96),
  ES512: ecdsa(512, 'P-521', 'secp521r1', 132),
  EdDSA: eddsa,
  Ed25519: eddsa,
  RS256: rsa(256, false),
  RS384: rsa(384, false),
  RS512: rsa(512, false),
  PS256: rsa(256, true),
  PS384: rsa(384, true),
  PS512: rsa(512, true),
}

/** The algorithms {@link verifySignature} implements. */
export const signatureAlgorithms: readonly string[] = Object.freeze(Object.keys(algorithms))

function cryptoKeyFits(key: CryptoKey, spec: JwsAlgorithm): boolean {
  const algorithm = key.algorithm as { name: string; hash?: { name?: string }; namedCurve?: string; modulusLength?: number }
  if (key.type !== 'public' || algorithm.name !== spec.webCrypto.name) return false
  if (spec.webCrypto.hash !== undefined && algorithm.hash?.name !== spec.webCrypto.hash) return false
  if (spec.webCrypto.namedCurve !== undefined && algorithm.namedCurve !== spec.webCrypto.namedCurve) return false
  if (spec.minRsaBits !== undefined && !((algorithm.modulusLength ?? 0) >= spec.minRsaBits)) return false
  return key.usages.includes('verify')
}

function keyObjectFits(key: KeyObject, spec: JwsAlgorithm): boolean {
  if (key.type !== 'public' || key.asymmetricKeyType !== spec.keyType) return false
  const details = key.asymmetricKeyDetails ?? {}
  if (spec.curve !== undefined && details.namedCurve !== spec.curve) return false
  return spec.minRsaBits === undefined || (details.modulusLength ?? 0) >= spec.minRsaBits
}

type VerifyKey = { key: KeyObject } & JwsAlgorithm['options']

/** The KeyObject of each CryptoKey a key set imported (both made from the same JWK). */
const twins = new WeakMap<CryptoKey, KeyObject>()

/** Records the KeyObject made from the same public JWK as `cryptoKey`, so it is verified synchronously. */
export function registerKeyObject(cryptoKey: CryptoKey, keyObject: KeyObject): void {
  twins.set(cryptoKey, keyObject)
}

/** Per key and alg, what crypto.verify takes as its key, null when the key does not fit the alg, undefined for WebCrypto; made once. */
const prepared = new WeakMap<object, Map<string, VerifyKey | null | undefined>>()

function verifyKeyFor(key: CryptoKey | KeyObject, alg: string, spec: JwsAlgorithm): VerifyKey | null | undefined {
  let byAlg = prepared.get(key)
  if (byAlg?.has(alg)) return byAlg.get(alg)
  let verifyKey: VerifyKey | null | undefined = null
  try {
    if (key instanceof KeyObject) verifyKey = keyObjectFits(key, spec) ? { key, ...spec.options } : null
    else if (cryptoKeyFits(key, spec)) {
      const twin = twins.get(key) ?? (key.extractable ? KeyObject.from(key as webcrypto.CryptoKey) : undefined)
      verifyKey = twin === undefined ? undefined : { key: twin, ...spec.options }
    }
  } catch {
    verifyKey = null
  }
  if (byAlg === undefined) {
    byAlg = new Map()
    prepared.set(key, byAlg)
  }
  byAlg.set(alg, verifyKey)
  return verifyKey
}

async function verifyWithWebCrypto(spec: JwsAlgorithm, key: CryptoKey, signingInput: string, signature: Uint8Array): Promise<boolean> {
  try {
    return await webcrypto.subtle.verify(spec.subtle, key as webcrypto.CryptoKey, signature, Buffer.from(signingInput, 'latin1'))
  } catch {
    return false
  }
}

/**
 * True when `signature` is a valid `alg` signature of `signingInput` (the ASCII text
 * `header.payload` of a compact JWS) under `key`. False for an unknown alg, a key that does not
 * fit the alg (see above), a signature of the wrong length (ECDSA: exactly R‖S, never DER),
 * or one that does not verify. Synchronous except for a non-extractable CryptoKey without a
 * registered KeyObject (then a promise of the same answer). Never throws or rejects.
 */
export function verifySignature(alg: string, key: CryptoKey | KeyObject, signingInput: string, signature: Uint8Array): boolean | Promise<boolean> {
  if (!Object.hasOwn(algorithms, alg)) return false
  const spec = algorithms[alg]!
  if (spec.signatureLength !== undefined && signature.length !== spec.signatureLength) return false
  const verifyKey = typeof key === 'object' && key !== null ? verifyKeyFor(key, alg, spec) : null
  if (verifyKey === null) return false
  if (verifyKey === undefined) return verifyWithWebCrypto(spec, key as CryptoKey, signingInput, signature)
  try {
    return verify(spec.digest, Buffer.from(signingInput, 'latin1'), verifyKey, signature)
  } catch {
    return false
  }
}
