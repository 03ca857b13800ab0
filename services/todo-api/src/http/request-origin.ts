import type { FastifyRequest } from 'fastify'
import { TodoApiError } from '../errors.ts'

/** A DNS name or IPv4 address, or a bracketed IPv6 literal, with an optional port. */
const validHost = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * The origin the caller used, e.g. `http://localhost:8080`: from X-Forwarded-Proto/-Host when the
 * peer is a trusted proxy (Fastify's trustProxy, config TRUST_PROXY), else from the connection and
 * Host. Anything that is not a plain scheme and host is refused rather than reflected.
 */
export function requestOrigin(request: FastifyRequest): string {
  const protocol = request.protocol
  const host = request.host
  if ((protocol !== 'http' && protocol !== 'https') || !validHost.test(host)) throw new TodoApiError('ERR_INVALID_HOST')
  return `${protocol}://${host.toLowerCase()}`
}
