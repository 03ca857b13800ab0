import { SignJWT, type JWTPayload } from 'jose'
import type { ExampleKey } from './example-keys.ts'

/** Signs `claims` with an example key under `header` (alg and kid come from the key unless the header sets them). */
export async function signExample(key: ExampleKey, header: Record<string, unknown>, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey)
}
