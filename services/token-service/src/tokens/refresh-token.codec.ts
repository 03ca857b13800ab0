import { createCipheriv, createDecipheriv, createHash, createSecretKey, hash, hkdfSync, type KeyObject } from 'node:crypto'
import { secureRandomBytes } from './random.ts'

/**
 * Refresh tokens are opaque to clients (SPEC §6): base64url of the 16-byte
 * session id followed by 32 random bytes (256 bits of secret). Carrying the
 * session id lets one Redis script, on one Cluster slot, find the session
 * without a second round trip. The session id is no secret (it is the `sid`
 * of every access token); the 32 random bytes are.
 *
 * 48 bytes give exactly 64 base64url characters and no dots, so a refresh
 * token can never be mistaken for a JWT and vice versa (R45).
 */
const sidBytes = 16
const secretBytes = 32
const tokenPattern = /^[A-Za-z0-9_-]{64}$/
const sidPattern = /^[A-Za-z0-9_-]{22}$/

/** A new session id: 128 random bits, base64url (22 characters). */
export function newSessionId(): string {
  return secureRandomBytes(sidBytes).toString('base64url')
}

export function isSessionId(value: string): boolean {
  return sidPattern.test(value)
}

/** A new refresh token of session `sid`. */
export function mintRefreshToken(sid: string): string {
  const id = Buffer.from(sid, 'base64url')
  if (id.length !== sidBytes || !isSessionId(sid)) throw new TypeError('not a session id')
  return Buffer.concat([id, secureRandomBytes(secretBytes)]).toString('base64url')
}

/** The session a well-formed refresh token names, or undefined for anything else (an access token included). */
export function sessionIdOf(token: string): string | undefined {
  if (!tokenPattern.test(token)) return undefined
  return Buffer.from(token, 'base64url').subarray(0, sidBytes).toString('base64url')
}

/** What the store keeps instead of the token: SHA-256, base64url (R38; 256-bit tokens need no slow hash). */
export function hashRefreshToken(token: string): string {
  // crypto.hash: the one-shot digest, no Hash object (1.3-1.7 against 2.2-3.1 µs per token, measured).
  return hash('sha256', token, 'base64url')
}

/**
 * The successor of a spent token is kept for the reuse grace window so a
 * racing repeat can be answered with the same token (SPEC §6). It is sealed
 * with AES-256-GCM (the session id as authenticated data) under a key derived
 * from the spent token itself: only a holder of that token can open it, and
 * the stored SHA-256 hash does not give the key.
 *
 * The key is NIST SP 800-56C's one-step derivation with SHA-256,
 * SHA-256(counter 1 ‖ token ‖ "todo-auth refresh successor v2"), one hash of
 * 256 bits of secret: about 4 µs against 15 µs for node:crypto's hkdfSync,
 * which v1 used (docs/performance.md). A v1 seal (HKDF-SHA256, empty salt,
 * info "todo-auth refresh successor v1") still opens: one made by an instance
 * of the previous release during a rolling deploy lives one grace window.
 */
const kdfCounter = Buffer.from([0, 0, 0, 1])
const kdfInfo = Buffer.from('todo-auth refresh successor v2', 'utf8')

// KeyObjects, not Buffers: Node 24 checks a Buffer key by throwing and catching internally, which
// costs hkdfSync and createCipheriv about 10 µs each per refresh (measured); the key bytes are the same.
function successorKey(spentToken: string): KeyObject {
  return createSecretKey(createHash('sha256').update(kdfCounter).update(spentToken, 'utf8').update(kdfInfo).digest())
}

function successorKeyV1(spentToken: string): KeyObject {
  const derived = hkdfSync('sha256', createSecretKey(Buffer.from(spentToken, 'utf8')), Buffer.alloc(0), 'todo-auth refresh successor v1', 32)
  return createSecretKey(Buffer.from(derived))
}

export function sealSuccessor(spentToken: string, successor: string, sid: string): string {
  const iv = secureRandomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', successorKey(spentToken), iv)
  cipher.setAAD(Buffer.from(sid, 'utf8'))
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')
}

function open(key: KeyObject, bytes: Buffer, sid: string): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
    decipher.setAAD(Buffer.from(sid, 'utf8'))
    decipher.setAuthTag(bytes.subarray(bytes.length - 16))
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}

/** Opens a sealed successor (v2, else v1); undefined when it was not sealed under this token (or was tampered with). */
export function openSuccessor(spentToken: string, sealed: string, sid: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url')
  if (bytes.length < 12 + 16 + 1) return undefined
  return open(successorKey(spentToken), bytes, sid) ?? open(successorKeyV1(spentToken), bytes, sid)
}
