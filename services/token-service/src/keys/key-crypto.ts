import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { FastifyBaseLogger } from 'fastify'
import type { PublicJwk } from '@todo-auth/contracts'
import type { Config } from '../config.ts'
import type { NewKey, SigningAlg } from './key.store.ts'
import { KeyDecryptionError } from './key.errors.ts'

/** A key-encryption key (KEK) and its id; the id travels with each sealed key so a KEK can be rotated. */
export interface KeyEncryptionKey {
  readonly id: string
  readonly key: Buffer
}

/**
 * The id is a keyed fingerprint (HMAC of a fixed label under the KEK): stable
 * for one KEK, different for another, and reveals nothing about the KEK.
 */
export function keyEncryptionKey(secret: Buffer): KeyEncryptionKey {
  if (secret.length !== 32) throw new Error('a key-encryption key is 32 bytes')
  const id = createHmac('sha256', secret).update('token-service signing-key KEK id v1').digest('base64url').slice(0, 16)
  return { id, key: Buffer.from(secret) }
}

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

const sealVersion = 'v1'

/**
 * AES-256-GCM with a fresh random 96-bit IV per encryption and the kid as
 * additional authenticated data, so a sealed key cannot be moved to another kid.
 * Format: `v1.<kek id>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
export function sealPrivateJwk(privateJwk: JWK, kid: string, kek: KeyEncryptionKey): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv)
  cipher.setAAD(Buffer.from(kid, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(privateJwk), 'utf8'), cipher.final()])
  return [sealVersion, kek.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
}

/** The id of the KEK that sealed `sealed`, or undefined when the format is not ours. */
export function sealedWith(sealed: string): string | undefined {
  const parts = sealed.split('.')
  return parts.length === 5 && parts[0] === sealVersion ? parts[1] : undefined
}

export function openPrivateJwk(sealed: string, kid: string, keks: readonly KeyEncryptionKey[]): JWK {
  const parts = sealed.split('.')
  const [version, kekId, iv, ciphertext, tag] = parts
  if (parts.length !== 5 || version !== sealVersion || !kekId || !iv || !ciphertext || !tag) throw new KeyDecryptionError(kid, 'unknown sealed-key format')
  const kek = keks.find((k) => k.id === kekId)
  if (!kek) throw new KeyDecryptionError(kid, `sealed under key-encryption key ${kekId}, which is not configured`)
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(kid, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
    return JSON.parse(plain.toString('utf8')) as JWK
  } catch (error) {
    throw new KeyDecryptionError(kid, 'authentication failed', { cause: error })
  }
}

/**
 * The public members of a JWK, listed explicitly (never a spread: a private
 * member must not be able to slip through), plus kid, alg and use.
 */
export function publicJwkOf(jwk: JWK, kid: string, alg: SigningAlg): PublicJwk {
  switch (jwk.kty) {
    case 'EC':
      return { kty: 'EC', crv: String(jwk.crv), x: String(jwk.x), y: String(jwk.y), kid, alg, use: 'sig' }
    case 'OKP':
      return { kty: 'OKP', crv: String(jwk.crv), x: String(jwk.x), kid, alg, use: 'sig' }
    case 'RSA':
      return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), kid, alg, use: 'sig' }
    default:
      throw new Error(`unsupported key type ${String(jwk.kty)}`)
  }
}

/** P-256 and Ed25519 give 128-bit strength; RSA needs 3072 bits for the same (NIST SP 800-57; checklist R32). */
const generateOptions: Record<SigningAlg, Parameters<typeof generateKeyPair>[1]> = {
  ES256: { extractable: true },
  EdDSA: { extractable: true, crv: 'Ed25519' },
  RS256: { extractable: true, modulusLength: 3072 },
}

/**
 * A new signing key from WebCrypto's CSPRNG. The kid is the RFC 7638
 * thumbprint of the public key; the private JWK leaves this function only sealed.
 */
export async function generateSigningKey(alg: SigningAlg, kek: KeyEncryptionKey): Promise<NewKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, generateOptions[alg])
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const privateJwk = await exportJWK(privateKey)
  return { kid, alg, material: { publicJwk: publicJwkOf(publicJwk, kid, alg), sealedPrivateKey: sealPrivateJwk(privateJwk, kid, kek) } }
}

/** The private key as a node:crypto KeyObject (what the signer uses); its type must be the one `alg` needs. */
export function importPrivateKey(sealed: string, kid: string, alg: SigningAlg, keks: readonly KeyEncryptionKey[]): KeyObject {
  const jwk = openPrivateJwk(sealed, kid, keks)
  const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
  const curveOk = alg !== 'ES256' || key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  if (key.asymmetricKeyType !== keyTypes[alg] || !curveOk) throw new KeyDecryptionError(kid, `the stored key is ${String(key.asymmetricKeyType)}, not a key for ${alg}`)
  return key
}

const keyTypes: Record<SigningAlg, string> = { ES256: 'ec', EdDSA: 'ed25519', RS256: 'rsa' }

export async function importPublicKey(jwk: PublicJwk): Promise<CryptoKey> {
  // Only the public members go in: explicit copy, as for publication.
  return (await importJWK(publicJwkOf(jwk as JWK, jwk.kid, jwk.alg), jwk.alg)) as CryptoKey
}
