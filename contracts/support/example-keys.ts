import { createECDH, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import type { PublicJwk } from '@todo-auth/contracts'

/**
 * Example signing keys of the consumer tests. They stand in for the provider's
 * keys inside the pact examples (a JWKS example must hold a real public key for
 * the consumer's verifier to verify anything with it). Derived from a public
 * label on every run, so the pact files stay byte-for-byte stable and no
 * private key is stored in the repository; they sign nothing outside these tests.
 */
export interface ExampleKey {
  kid: string
  alg: 'ES256' | 'EdDSA'
  privateKey: KeyObject
  publicJwk: PublicJwk
}

const seed = (label: string) => createHash('sha256').update(`todo-auth contract example key: ${label}`).digest()

function es256(kid: string): ExampleKey {
  // sha256 output is below the P-256 order with overwhelming probability; createECDH refuses it otherwise.
  const d = seed(kid)
  const ecdh = createECDH('prime256v1')
  ecdh.setPrivateKey(d)
  const point = ecdh.getPublicKey() // 0x04 || X || Y
  const x = point.subarray(1, 33).toString('base64url')
  const y = point.subarray(33, 65).toString('base64url')
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x, y, d: d.toString('base64url') }, format: 'jwk' })
  return { kid, alg: 'ES256', privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' } }
}

/** RFC 8410 PKCS #8 prefix of an Ed25519 private key; the 32-byte seed follows. */
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')

function ed25519(kid: string): ExampleKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([ed25519Pkcs8Prefix, seed(kid)]), format: 'der', type: 'pkcs8' })
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' })
  return { kid, alg: 'EdDSA', privateKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: x!, kid, alg: 'EdDSA', use: 'sig' } }
}

/** Stands in for a token-service signing key (SPEC §5 default ES256). */
export const exampleAccessTokenKey = es256('example-token-service-key')
/** Stands in for BetterAuth's signing key (DEFAULTS: EdDSA). */
export const exampleBetterAuthKey = ed25519('example-better-auth-key')
