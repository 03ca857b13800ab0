import type { FastifyServerOptions } from 'fastify'
import { serializeRequest } from '@todo-auth/service-config'

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
    // Fastify's request serializer minus the query string: a token sent in a URL must not reach the logs (R19).
    serializers: { req: serializeRequest },
  }
}
