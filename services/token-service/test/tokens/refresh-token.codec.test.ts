import { createCipheriv, createSecretKey, hkdfSync, randomBytes } from 'node:crypto'
import t from 'tap'
import { mintRefreshToken, newSessionId, openSuccessor, sealSuccessor } from '../../src/tokens/refresh-token.codec.ts'

/** A successor sealed independently of the codec, by RFC 5869 HKDF-SHA256 (hkdfSync) as documented: the format other instances and versions rely on. */
function sealedWithHkdfSync(spentToken: string, successor: string, sid: string): string {
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', createSecretKey(Buffer.from(spentToken, 'utf8')), Buffer.alloc(0), 'todo-auth refresh successor v1', 32)))
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(sid, 'utf8'))
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')
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

t.test('the key is HKDF-SHA256 exactly: successors sealed with hkdfSync still open', async (t) => {
  for (let i = 0; i < 20; i++) {
    const sid = newSessionId()
    const spent = mintRefreshToken(sid)
    const successor = mintRefreshToken(sid)
    t.equal(openSuccessor(spent, sealedWithHkdfSync(spent, successor, sid), sid), successor)
  }
})
