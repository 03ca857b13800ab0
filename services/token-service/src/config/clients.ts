import { TodoScope } from '@todo-auth/contracts'
import { isOrigin } from '@todo-auth/service-config'

/**
 * A registered client (SPEC §4). Both defaults are public clients (no secret):
 * `web` receives its refresh token only as an HttpOnly cookie, `cli` in the
 * response body.
 */
export interface ClientConfig {
  readonly clientId: string
  readonly refreshTokenDelivery: 'cookie' | 'body'
  /** Origins a cookie client's requests must come from (CSRF defence). Empty for body clients. */
  readonly allowedOrigins: readonly string[]
  readonly scopes: readonly string[]
  readonly audiences: readonly string[]
}

export const defaultWebOrigins = ['http://localhost:8080', 'http://127.0.0.1:8080'] as const

export function defaultClients(webOrigins: readonly string[], audiences: readonly string[]): ClientConfig[] {
  const scopes = [TodoScope.read, TodoScope.write]
  return [
    { clientId: 'web', refreshTokenDelivery: 'cookie', allowedOrigins: [...webOrigins], scopes, audiences: [...audiences] },
    { clientId: 'cli', refreshTokenDelivery: 'body', allowedOrigins: [], scopes, audiences: [...audiences] },
  ]
}

const clientIdPattern = /^[A-Za-z0-9._-]{1,64}$/
const scopeTokenPattern = /^[\x21\x23-\x5B\x5D-\x7E]+$/ // RFC 6749 §3.3 scope-token

/**
 * Parses the CLIENTS variable: a JSON array of
 * `{ "client_id", "refresh_token_delivery": "cookie"|"body", "allowed_origins"?, "scopes", "audiences"? }`.
 * Throws one message listing every problem (loadConfig reports it as CLIENTS).
 */
export function parseClients(raw: string, knownAudiences: readonly string[]): ClientConfig[] {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw new Error('must be a JSON array of client objects')
  }
  if (!Array.isArray(value) || value.length === 0) throw new Error('must be a non-empty JSON array of client objects')
  const problems: string[] = []
  const seen = new Set<string>()
  const clients: ClientConfig[] = []
  value.forEach((entry: unknown, i) => {
    const where = `client #${i}`
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`${where} is not an object`)
      return
    }
    const e = entry as Record<string, unknown>
    const clientId = e.client_id
    if (typeof clientId !== 'string' || !clientIdPattern.test(clientId)) problems.push(`${where}: client_id must match ${clientIdPattern}`)
    else if (seen.has(clientId)) problems.push(`${where}: duplicate client_id ${clientId}`)
    else seen.add(clientId)
    const delivery = e.refresh_token_delivery
    if (delivery !== 'cookie' && delivery !== 'body') problems.push(`${where}: refresh_token_delivery must be "cookie" or "body"`)
    const origins = e.allowed_origins ?? []
    if (!Array.isArray(origins) || !origins.every((o) => typeof o === 'string' && isOrigin(o))) {
      problems.push(`${where}: allowed_origins must be an array of origins like "https://app.example.com"`)
    } else if (delivery === 'cookie' && origins.length === 0) {
      problems.push(`${where}: a cookie client needs at least one allowed origin`)
    }
    const scopes = e.scopes
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && scopeTokenPattern.test(s))) {
      problems.push(`${where}: scopes must be a non-empty array of scope tokens`)
    }
    const audiences = e.audiences ?? knownAudiences
    if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && knownAudiences.includes(a))) {
      problems.push(`${where}: audiences must be a non-empty subset of AUDIENCES (${knownAudiences.join(', ')})`)
    }
    if (problems.length === 0) {
      clients.push({
        clientId: clientId as string,
        refreshTokenDelivery: delivery as 'cookie' | 'body',
        allowedOrigins: origins as string[],
        scopes: scopes as string[],
        audiences: audiences as string[],
      })
    }
  })
  if (problems.length > 0) throw new Error(problems.join('; '))
  return clients
}
