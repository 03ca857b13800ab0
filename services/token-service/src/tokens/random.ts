import { randomFillSync } from 'node:crypto'

/**
 * Random bytes from the CSPRNG, drawn from a pool refilled 4 KiB at a time
 * (what Node's randomUUID does). Every call to randomBytes() enters OpenSSL's
 * RNG: under load, with WebCrypto jobs on the thread pool, the three small calls a
 * token exchange or refresh makes (session id, refresh secret, jti, seal IV)
 * showed as 5 % of the main thread in profiles; the pool makes them a copy.
 * No byte is handed out twice. Returns a new Buffer the caller owns.
 */
const poolSize = 4096
const pool = Buffer.alloc(poolSize)
let offset = poolSize

export function secureRandomBytes(size: number): Buffer {
  if (!Number.isInteger(size) || size <= 0 || size > poolSize) throw new RangeError(`secureRandomBytes: size ${size} is not in 1..${poolSize}`)
  if (offset + size > poolSize) {
    randomFillSync(pool)
    offset = 0
  }
  const out = Buffer.from(pool.subarray(offset, offset + size))
  // Spent bytes are zeroed: the pool never holds a value that was handed out.
  pool.fill(0, offset, offset + size)
  offset += size
  return out
}
