import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto'
import t from 'tap'
import { mintRefreshToken, newSessionId, openSuccessor, sealSuccessor } from '../../src/tokens/refresh-token.codec.ts'

// The two key derivations, written out independently of the codec as documented: the format other
// instances and versions rely on.
/** v2: NIST SP 800-56C one-step KDF, SHA-256(counter 1 ‖ token ‖ info). */
const keyV2 = (spentToken: string) =>
  createSecretKey(
    createHash('sha256')
      .update(Buffer.from([0, 0, 0, 1]))
      .update(spentToken)
      .update('todo-auth refresh successor v2')
      .digest(),
  )
/** v1 (the previous release): RFC 5869 HKDF-SHA256, empty salt. */
const keyV1 = (spentToken: string) => createSecretKey(Buffer.from(hkdfSync('sha256', createSecretKey(Buffer.from(spentToken, 'utf8')), Buffer.alloc(0), 'todo-auth refresh successor v1', 32)))

function sealWith(key: KeyObject, successor: string, sid: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(sid, 'utf8'))
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')
}

function openWith(key: KeyObject, sealed: string, sid: string): string {
  const bytes = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
  decipher.setAAD(Buffer.from(sid, 'utf8'))
  decipher.setAuthTag(bytes.subarray(bytes.length - 16))
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8')
}

t.test('a sealed successor opens with the spent token only, for its session only', async (t) => {
  const sid = newSessionId()
  const spent = mintRefreshToken(sid)
  const successor = mintRefreshToken(sid)
  const sealed = sealSuccessor(spent, successor, sid)
  t.equal(openSuccessor(spent, sealed, sid), successor)
  t.equal(openSuccessor(mintRefreshToken(sid), sealed, sid), undefined, 'another token of the session')
  t.equal(openSuccessor(spent, sealed, newSessionId()), undefined, 'another session (the sid is authenticated data)')
  const tampered = Buffer.from(sealed, 'base64url')
  tampered[14]! ^= 1
  t.equal(openSuccessor(spent, tampered.toString('base64url'), sid), undefined, 'a flipped bit')
  t.equal(openSuccessor(spent, 'c2hvcnQ', sid), undefined, 'too short to be sealed')
  t.not(sealSuccessor(spent, successor, sid), sealed, 'a fresh IV each time')
})

t.test('seals are AES-256-GCM under the SP 800-56C one-step key; v1 (HKDF) seals of the previous release still open', async (t) => {
  for (let i = 0; i < 20; i++) {
    const sid = newSessionId()
    const spent = mintRefreshToken(sid)
    const successor = mintRefreshToken(sid)
    t.equal(openWith(keyV2(spent), sealSuccessor(spent, successor, sid), sid), successor, 'the codec seals under the v2 key')
    t.equal(openSuccessor(spent, sealWith(keyV2(spent), successor, sid), sid), successor, 'a v2 seal made independently opens')
    t.equal(openSuccessor(spent, sealWith(keyV1(spent), successor, sid), sid), successor, 'a v1 seal opens')
    t.equal(openSuccessor(mintRefreshToken(sid), sealWith(keyV1(spent), successor, sid), sid), undefined, 'a v1 seal opens with its own token only')
  }
})
