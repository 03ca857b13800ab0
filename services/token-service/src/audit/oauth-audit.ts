import { GrantType, type AuditType } from '@todo-auth/contracts'
import { OAuthError } from '../errors.ts'
import { RefreshTokenReused } from '../sessions/session.errors.ts'
import type { AuditFields } from './audit-log.ts'

/** The audit type of a token request by its grant_type (an unknown one counts as a sign-in attempt). */
export function grantAuditType(grantType: string | undefined): AuditType {
  return grantType === GrantType.refreshToken ? 'token_refresh' : 'token_exchange'
}

/**
 * The audit event of a refused token request: the OAuth error code as its cause, or, when a spent
 * refresh token was presented again, a `refresh_token_reuse` event naming the ended session.
 */
export function failedGrantAudit(type: AuditType, error: unknown, clientId: string | undefined): AuditFields {
  const client = clientId === undefined ? {} : { client_id: clientId }
  const cause = error instanceof Error ? error.cause : undefined
  if (cause instanceof RefreshTokenReused) {
    return { type: 'refresh_token_reuse', outcome: 'failure', cause: 'spent_token_presented', sub: cause.sub, sid: cause.sid, ...client }
  }
  return { type, outcome: 'failure', cause: error instanceof OAuthError ? error.error : 'error', ...client }
}
