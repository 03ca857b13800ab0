import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { InvalidRequest } from '../errors.ts'

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

/**
 * The refresh cookie, refused when it arrives more than once: the cookie
 * cannot carry the __Host- prefix (SPEC fixes Path=/oauth), so a sibling
 * subdomain could plant a second one of the same name (cookie tossing), and
 * which of the two a parser picks would then be the attacker's choice.
 */
export function readRefreshCookie(request: FastifyRequest, config: Config): string | undefined {
  const header = request.headers.cookie
  if (header !== undefined) {
    let count = 0
    for (const pair of header.split(';')) {
      if (pair.slice(0, pair.indexOf('=')).trim() === config.refreshCookieName) count += 1
    }
    if (count > 1) throw new InvalidRequest('the refresh cookie was sent more than once')
  }
  const value = request.cookies[config.refreshCookieName]
  return typeof value === 'string' && value !== '' ? value : undefined
}
