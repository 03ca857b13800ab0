import type { FastifyServerOptions } from 'fastify'
import { serializeRequest } from '@todo-auth/service-config'
import type { LogLevel } from './config.ts'

type Stream = { write(line: string): void }

const secretFields = ['password', 'newPassword', 'currentPassword', 'token', 'jwt', 'secret', 'cookie', 'authorization', 'accessToken', 'refreshToken', 'idToken']

/** pino paths of anything that can hold a credential, at the depths our log objects use. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  ...secretFields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
]

/**
 * Fastify's pino: JSON lines, credentials redacted, and request URLs logged
 * without their query string (a token must never reach a log through a URL).
 */
export function loggerOptions(level: LogLevel, stream?: Stream): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { req: serializeRequest },
    ...(stream ? { stream } : {}),
  }
}
