/** What pino's request serializer receives from Fastify (the FastifyRequest). */
export interface LoggedRequest {
  readonly method: string
  readonly url: string
  readonly host?: string
  readonly ip?: string
  readonly socket?: { readonly remoteAddress?: string; readonly remotePort?: number }
}

/** A request URL without its query string: `?` and everything after become `?[redacted]`. */
export function redactQuery(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : `${url.slice(0, query)}?[redacted]`
}

/**
 * Fastify's own request serializer, minus the query string, for every
 * service's logger (`serializers.req`): a token, code or secret a client
 * puts in a URL (refused, or an unknown path) never reaches a log line
 * (checklist R19). The path stays, so a log still says what was asked.
 */
export function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip ?? request.socket?.remoteAddress,
    remotePort: request.socket?.remotePort,
  }
}
