import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'

/**
 * The header and claims of a JWT a provider really issued: the signature is
 * checked against the provider's published JWKS first (nothing else: the
 * claims are the pact's to judge), so a message built from a forged or
 * locally made token cannot pass verification.
 */
export async function decodeIssuedJwt(token: string, jwksUrl: string): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const keys = createRemoteJWKSet(new URL(jwksUrl))
  const header = decodeProtectedHeader(token) as Record<string, unknown>
  // jose's default typ/crit handling would reject nothing the pact cares about; no iss/aud/time checks here.
  const { payload } = await jwtVerify(token, keys, { algorithms: typeof header.alg === 'string' ? [header.alg] : [] })
  return { header, claims: payload as Record<string, unknown> }
}
