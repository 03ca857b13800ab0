import type { AuditEvent } from '@todo-auth/contracts'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Clock } from '../clock.ts'

export type { AuditEvent } from '@todo-auth/contracts'
export type AuditSink = (event: AuditEvent) => void

/** What a caller names; the time, request id and client address are filled in. */
export type AuditFields = Omit<AuditEvent, 'event' | 'at' | 'request_id' | 'ip'>

/** A sink bound to a clock: records one event for a request. */
export type RequestAudit = (request: FastifyRequest, fields: AuditFields) => void

/**
 * Writes audit events to the service log, one JSON line each (`"event":"audit"`,
 * the AuditEvent schema of packages/contracts), and to an optional extra sink.
 * Written through the listener's root logger, not the request's, so `request_id`
 * appears once, as a member of the event.
 */
export function createAuditLog(log: FastifyBaseLogger, extra?: AuditSink): AuditSink {
  return (event) => {
    if (event.outcome === 'success' && event.type !== 'refresh_token_reuse') log.info(event, `audit ${event.type}`)
    else log.warn(event, `audit ${event.type} ${event.cause ?? event.outcome}`)
    extra?.(event)
  }
}

export function requestAudit(sink: AuditSink, clock: Clock): RequestAudit {
  return (request, fields) =>
    sink({
      event: 'audit',
      ...fields,
      at: new Date(clock.now()).toISOString(),
      request_id: request.id,
      ip: request.ip,
    })
}
