import type { FastifyBaseLogger, FastifyRequest } from 'fastify'

/**
 * One admin call or failure (checklist R60, ASVS 16.3): who (peer address),
 * what (method + route), the kid or subject acted on, the outcome. Never a
 * token or secret: a failed authentication records only why it failed.
 */
export interface AuditEvent {
  readonly event: 'admin_audit'
  readonly at: string
  readonly who: string
  readonly what: string
  readonly kid?: string
  readonly sub?: string
  readonly outcome: 'success' | 'failure'
  readonly status: number
  /** For failures: a stable reason code (missing_credentials, malformed_credentials, wrong_token, rate_limited, not_found, …). */
  readonly reason?: string
}

export type AuditSink = (event: AuditEvent) => void

/** Writes audit events to the service log (JSON lines, `event: "admin_audit"`) and to an optional extra sink. */
export function createAuditLog(log: FastifyBaseLogger, extra?: AuditSink): AuditSink {
  const auditLog = log.child({ audit: true })
  return (event) => {
    if (event.outcome === 'success') auditLog.info(event, `admin ${event.what}`)
    else auditLog.warn(event, `admin ${event.what} refused`)
    extra?.(event)
  }
}

const reasons = new WeakMap<FastifyRequest, string>()

/** Lets a hook or route name why a request failed, for its audit event (e.g. `next_key_too_young`). */
export function setAuditReason(request: FastifyRequest, reason: string): void {
  reasons.set(request, reason)
}

export function auditReason(request: FastifyRequest): string | undefined {
  return reasons.get(request)
}
