import { sign, type KeyObject } from 'node:crypto'
import type { SigningAlg } from '../keys/key.store.ts'

/**
 * Signs compact JWS (RFC 7515 §7.1) with node:crypto and a KeyObject, the
 * protected header encoded once per key. ES256 and EdDSA sign synchronously
 * (tens of µs: cheaper than a trip through WebCrypto's thread pool, which
 * cost about 20 % more CPU per token in docs/performance.md); RS256 (a
 * 3072-bit key takes milliseconds) runs on libuv's pool so it never blocks
 * the event loop. ECDSA signatures are the fixed-length r‖s form JWS requires
 * (RFC 7518 §3.4), never DER: OpenSSL signs DER and p1363FromDer rewrites it
 * (node:crypto's own `dsaEncoding: 'ieee-p1363'` option costs 2–3× the
 * signature itself here: 85–119 µs against 31–50 µs per ES256 signature,
 * bench/tools notes in docs/performance.md).
 */
export interface JwsSigner {
  readonly kid: string
  readonly alg: SigningAlg
  /** `payload` is serialised as it is: the caller lists its members explicitly. */
  sign(payload: object): Promise<string>
}

export function createJwsSigner(key: { kid: string; alg: SigningAlg; privateKey: KeyObject }, typ: string): JwsSigner {
  const { kid, alg, privateKey } = key
  const head = `${Buffer.from(JSON.stringify({ alg, kid, typ })).toString('base64url')}.`
  const signingInput = (payload: object) => head + Buffer.from(JSON.stringify(payload)).toString('base64url')
  switch (alg) {
    case 'ES256':
      return {
        kid,
        alg,
        sign: async (payload) => {
          const input = signingInput(payload)
          return `${input}.${p1363FromDer(sign('sha256', Buffer.from(input), privateKey)).toString('base64url')}`
        },
      }
    case 'EdDSA':
      return {
        kid,
        alg,
        sign: async (payload) => {
          const input = signingInput(payload)
          return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
        },
      }
    case 'RS256':
      return {
        kid,
        alg,
        sign: (payload) => {
          const input = signingInput(payload)
          return new Promise((resolve, reject) => {
            sign('sha256', Buffer.from(input), privateKey, (error, signature) => (error ? reject(error) : resolve(`${input}.${signature.toString('base64url')}`)))
          })
        },
      }
  }
}

/**
 * An ECDSA P-256 signature, DER `SEQUENCE { INTEGER r, INTEGER s }` as OpenSSL
 * writes it, as the 64-byte r‖s of RFC 7518 §3.4 (each integer left-padded to
 * 32 bytes, DER's sign byte dropped). Throws on anything that is not that shape.
 */
export function p1363FromDer(der: Buffer): Buffer {
  const out = Buffer.alloc(64)
  // P-256 signatures are at most 72 bytes: the SEQUENCE length fits in one byte.
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error('not a DER ECDSA signature')
  let offset = 2
  for (let i = 0; i < 2; i++) {
    const length = der[offset + 1] ?? 0
    if (der[offset] !== 0x02 || length < 1 || length > 33 || offset + 2 + length > der.length) throw new Error('not a DER ECDSA signature')
    let start = offset + 2
    let size = length
    if (size === 33) {
      if (der[start] !== 0) throw new Error('not a DER ECDSA signature')
      start += 1
      size -= 1
    }
    der.copy(out, i * 32 + (32 - size), start, start + size)
    offset += 2 + length
  }
  if (offset !== der.length) throw new Error('not a DER ECDSA signature')
  return out
}
