import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import t from 'tap'
import { createAdminAuthenticator } from '../../src/admin/admin-auth.ts'
import { build } from '../helpers/build.ts'

// Checklist R34: the admin secret is compared in constant time, both sides hashed to equal length
// first. Timing itself is too noisy to assert in a shared CI, so this proves the mechanism: every
// candidate, whatever its length, reaches crypto.timingSafeEqual as two 32-byte buffers, and no
// other comparison decides (a wrong token of the right length fails the same way).

const calls: Array<[number, number]> = []
const original = crypto.timingSafeEqual
crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
  calls.push([a.byteLength, b.byteLength])
  return original(a, b)
}) as typeof crypto.timingSafeEqual
// Named imports of node:crypto (admin-auth.ts's `import { timingSafeEqual }`) see the spy from now on.
syncBuiltinESMExports()
t.teardown(() => {
  crypto.timingSafeEqual = original
  syncBuiltinESMExports()
})

const adminToken = 'A'.repeat(43)

t.test('every well-formed candidate is decided by timingSafeEqual over two SHA-256 digests', async (t) => {
  const authenticate = createAdminAuthenticator(adminToken)
  const candidates: Array<[string, string, boolean]> = [
    ['the token', adminToken, true],
    ['a one-character token', 'A', false],
    ['a prefix', adminToken.slice(0, 42), false],
    ['the token plus one character', `${adminToken}A`, false],
    ['same length, last character differs', `${adminToken.slice(0, 42)}B`, false],
    ['same length, first character differs', `B${adminToken.slice(1)}`, false],
    ['10 kB', 'A'.repeat(10_240), false],
    ['non-ASCII-free printable punctuation', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', false],
  ]
  for (const [name, candidate, ok] of candidates) {
    calls.length = 0
    const result = authenticate(`Bearer ${candidate}`)
    t.equal(result.ok, ok, `${name}: ${ok ? 'accepted' : 'refused'}`)
    if (!result.ok) t.equal(result.reason, 'wrong_token', `${name}: wrong_token`)
    t.same(calls, [[32, 32]], `${name}: one timingSafeEqual over 32 + 32 bytes`)
  }
})

t.test('malformed or missing credentials are refused before any comparison, so no secret-dependent work is done for them', async (t) => {
  const authenticate = createAdminAuthenticator(adminToken)
  for (const header of [undefined, '', adminToken, `Basic ${adminToken}`, `Bearer  ${adminToken}`, `Bearer ${adminToken} `, 'Bearer ', `Bearer ${adminToken}\u00e9`]) {
    calls.length = 0
    t.notOk(authenticate(header).ok, `${JSON.stringify(header)?.slice(0, 30)}: refused`)
    t.same(calls, [], `${JSON.stringify(header)?.slice(0, 30)}: no comparison`)
  }
  calls.length = 0
  t.notOk(authenticate([`Bearer ${adminToken}`, `Bearer ${adminToken}`]).ok, 'two Authorization headers: refused')
  t.same(calls, [])
})

t.test('the admin listener authenticates through the same constant-time comparison', async (t) => {
  const app = await build(t, { ADMIN_RATE_LIMIT_MAX: '1000' }, { store: 'memory' })
  calls.length = 0
  const refused = await app.adminApp!.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${app.config.ADMIN_TOKEN!.slice(0, -1)}` } })
  t.equal(refused.statusCode, 401)
  t.same(calls, [[32, 32]], 'a wrong token: one comparison of two digests')
  calls.length = 0
  const accepted = await app.adminApp!.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${app.config.ADMIN_TOKEN}` } })
  t.equal(accepted.statusCode, 200)
  t.same(calls, [[32, 32]], 'the right token: the same single comparison')
})
