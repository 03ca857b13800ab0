import type { FastifyRequest } from 'fastify'
import type { ClientConfig } from '../config/clients.ts'
import { InvalidClient, InvalidRequest } from '../errors.ts'
import { required, type OAuthParams } from './read-params.ts'

/** The registered client named by `client_id` (SPEC §4); unknown → invalid_client 401. */
export function findClient(clients: readonly ClientConfig[], params: OAuthParams): ClientConfig {
  const clientId = required(params, 'client_id')
  const client = clients.find((c) => c.clientId === clientId)
  if (!client) throw new InvalidClient()
  return client
}

/**
 * CSRF defence for every request of a cookie client that uses or sets the
 * refresh cookie (SPEC §4, checklist R49): the Origin must be one of the
 * client's allowed origins, compared exactly; a missing Origin is refused
 * too, and so is a browser's own `Sec-Fetch-Site: cross-site`.
 */
export function checkCookieOrigin(client: ClientConfig, request: FastifyRequest): void {
  if (client.refreshTokenDelivery !== 'cookie') return
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    throw new InvalidRequest('cross-site requests are not allowed', { statusCode: 403 })
  }
  const origin = request.headers.origin
  if (origin === undefined) throw new InvalidRequest('the Origin header is required', { statusCode: 403 })
  if (!client.allowedOrigins.includes(origin)) throw new InvalidRequest('this origin is not allowed', { statusCode: 403 })
}
