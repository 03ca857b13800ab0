import type { FastifyRequest } from 'fastify'

// An admin call or failure is an audit event of type `admin` (audit/audit-log.ts, checklist R60,
// ASVS 16.3): the caller's address, method + route, the kid or subject acted on, the outcome and
// status, and for a failure a stable cause. Never a token or secret.

const reasons = new WeakMap<FastifyRequest, string>()

/** Lets a hook or route name why a request failed, for its audit event (e.g. `next_key_too_young`). */
export function setAuditReason(request: FastifyRequest, reason: string): void {
  reasons.set(request, reason)
}

export function auditReason(request: FastifyRequest): string | undefined {
  return reasons.get(request)
}
