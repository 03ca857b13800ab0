import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * A confidential resource-server client that may call POST /oauth/introspect
 * (RFC 7662 §2.1), authenticated by HTTP Basic (client_secret_basic). Only a
 * SHA-256 digest of its secret is kept, so the secret itself never sits in
 * the config object (nothing can log it by accident).
 */
export interface IntrospectionClient {
  readonly clientId: string
  readonly secretDigest: Buffer
}

const clientIdPattern = /^[A-Za-z0-9._-]{1,64}$/
/** No `:` or `,` (the separators) and nothing that needs quoting in a compose file. */
const secretPattern = /^[A-Za-z0-9._~+/=-]{32,256}$/

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest()

/**
 * Parses INTROSPECTION_CLIENTS: comma-separated `client_id:client_secret`
 * pairs, each secret at least 32 characters. A message never quotes a
 * secret. `reserved`: ids of the registered (public) clients, which may not
 * be reused.
 */
export function parseIntrospectionClients(raw: string, reserved: readonly string[]): IntrospectionClient[] {
  const problems: string[] = []
  const clients: IntrospectionClient[] = []
  raw.split(',').forEach((entry, i) => {
    const where = `entry #${i}`
    const colon = entry.indexOf(':')
    const clientId = colon < 0 ? entry.trim() : entry.slice(0, colon).trim()
    const secret = colon < 0 ? '' : entry.slice(colon + 1).trim()
    if (!clientIdPattern.test(clientId)) problems.push(`${where}: client_id must match ${clientIdPattern}`)
    else if (reserved.includes(clientId) || clients.some((c) => c.clientId === clientId)) problems.push(`${where}: client_id ${clientId} is already taken`)
    if (!secretPattern.test(secret)) problems.push(`${where}: must be client_id:client_secret with a secret of 32 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -`)
    if (problems.length === 0) clients.push(Object.freeze({ clientId, secretDigest: digest(secret) }))
  })
  if (problems.length > 0) throw new Error(problems.join('; '))
  return clients
}

/**
 * The client these credentials authenticate, or undefined. Constant time in
 * the secret (digests of equal length, timingSafeEqual), and an unknown id
 * costs the same comparison as a known one.
 */
export function authenticateIntrospectionClient(clients: readonly IntrospectionClient[], clientId: string, secret: string): IntrospectionClient | undefined {
  const presented = digest(secret)
  const client = clients.find((c) => c.clientId === clientId)
  const equal = timingSafeEqual(presented, client?.secretDigest ?? digest(`\0${secret}`))
  return client && equal ? client : undefined
}
