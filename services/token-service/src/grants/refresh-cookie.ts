import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'

/**
 * The refresh cookie of cookie clients (SPEC §4): HttpOnly, SameSite=Strict,
 * Secure (unless COOKIE_SECURE=false, plain-http development only), Path
 * /oauth (sent to the token and revocation endpoints only), and a Max-Age
 * that ends with the session. Its name carries the __Secure- prefix when
 * Secure (checklist R46; __Host- would force Path=/, and SPEC fixes /oauth).
 */
function attributes(config: Config) {
  return { httpOnly: true, secure: config.COOKIE_SECURE, sameSite: 'strict', path: '/oauth' } as const
}

export function setRefreshCookie(reply: FastifyReply, config: Config, token: string, remainingMs: number): void {
  const maxAge = Math.min(config.REFRESH_TOKEN_TTL, Math.max(0, Math.floor(remainingMs / 1000)))
  reply.setCookie(config.refreshCookieName, token, { ...attributes(config), maxAge })
}

export function clearRefreshCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(config.refreshCookieName, attributes(config))
}

export function readRefreshCookie(request: FastifyRequest, config: Config): string | undefined {
  const value = request.cookies[config.refreshCookieName]
  return typeof value === 'string' && value !== '' ? value : undefined
}
