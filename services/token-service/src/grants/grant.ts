import type { FastifyRequest } from 'fastify'
import type { RequestAudit } from '../audit/audit-log.ts'
import type { Clock } from '../clock.ts'
import type { ClientConfig } from '../config/clients.ts'
import type { Config } from '../config.ts'
import type { SessionService } from '../sessions/session.service.ts'
import type { Session } from '../sessions/session.store.ts'
import type { AccessTokenIssuer } from '../tokens/access-token.ts'
import type { SubjectTokenVerifier } from '../better-auth/verify-subject-token.ts'
import type { OAuthParams } from './read-params.ts'

/** What every grant may use; built once in app.ts. */
export interface GrantContext {
  config: Config
  clock: Clock
  upstream: SubjectTokenVerifier
  sessions: SessionService
  accessTokens: AccessTokenIssuer
  /** Audit events of sign-in, refresh, reuse and revocation (audit/audit-log.ts). */
  audit: RequestAudit
}

/** A successful grant: the route turns it into the RFC 6749 §5.1 response (and the cookie). */
export interface GrantOutcome {
  accessToken: string
  expiresIn: number
  scope: readonly string[]
  refreshToken: string
  session: Session
  /** RFC 8693 §2.2.1 requires it on exchange responses. */
  issuedTokenType?: 'urn:ietf:params:oauth:token-type:access_token'
}

export type Grant = (context: GrantContext, client: ClientConfig, params: OAuthParams, request: FastifyRequest) => Promise<GrantOutcome>

/** The User-Agent shown in the session list; bounded, never trusted for anything else. */
export function userAgentOf(request: FastifyRequest): string | null {
  const ua = request.headers['user-agent']
  return typeof ua === 'string' && ua.length > 0 ? ua.slice(0, 256) : null
}
