import type { FastifyServerOptions } from 'fastify'

/**
 * pino options shared by both listeners. Tokens, cookies and secrets are
 * redacted wherever they could appear (RFC 9700 §4.3.2, ASVS 16.2.5).
 */
export function loggerOptions(level: string): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.subject_token', '*.refresh_token', '*.access_token', '*.token', '*.password'],
      censor: '[redacted]',
    },
    serializers: {
      // Fastify's own request serializer, minus the query string: a token sent in a URL (refused with 400) must not reach the logs either (R19).
      req(request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
        const query = request.url.indexOf('?')
        return {
          method: request.method,
          url: query === -1 ? request.url : `${request.url.slice(0, query)}?[redacted]`,
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }
      },
    },
  }
}
