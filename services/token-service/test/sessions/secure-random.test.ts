import t from 'tap'
import { secureRandomBytes } from '../../src/tokens/random.ts'

t.test('hands out fresh bytes of the asked size, never the same bytes twice, across pool refills', async (t) => {
  const seen = new Set<string>()
  let total = 0
  let wrongSize = 0
  // 3 000 × 16 bytes crosses the 4 KiB pool about a dozen times.
  for (let i = 0; i < 3000; i += 1) {
    const size = [12, 16, 32][i % 3]!
    const bytes = secureRandomBytes(size)
    if (bytes.length !== size) wrongSize += 1
    total += size
    seen.add(bytes.toString('hex'))
  }
  t.equal(wrongSize, 0, 'every value has the asked size')
  t.equal(seen.size, 3000, 'no value repeats')
  t.ok(total > 4 * 4096, 'the pool was refilled several times')
})

t.test('the caller owns the returned buffer: changing it does not change later values', async (t) => {
  const a = secureRandomBytes(32)
  a.fill(0)
  const b = secureRandomBytes(32)
  t.not(b.toString('hex'), '00'.repeat(32))
})

t.test('bytes look uniform (a broken pool would show zeros or repeats)', async (t) => {
  const counts = new Array<number>(256).fill(0)
  for (let i = 0; i < 2048; i += 1) for (const byte of secureRandomBytes(32)) counts[byte]! += 1
  // 65 536 bytes: 256 expected per value; a zeroed or stuck pool would put thousands on one value.
  t.ok(Math.max(...counts) < 400, `max count ${Math.max(...counts)}`)
  t.ok(Math.min(...counts) > 140, `min count ${Math.min(...counts)}`)
})

t.test('refuses sizes it cannot serve', async (t) => {
  for (const size of [0, -1, 1.5, 4097, Number.NaN]) t.throws(() => secureRandomBytes(size), RangeError, String(size))
})
