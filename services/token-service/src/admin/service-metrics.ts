import type { FastifyInstance } from 'fastify'
import type { Histogram } from 'prom-client'
import type { KeySetEvent } from '@todo-auth/token-verifier'
import type { SessionService } from '../sessions/session.service.ts'
import type { SessionRotateOutcome } from '../sessions/session.store.ts'
import type { Metrics } from './metrics.ts'

/** Request-duration buckets (seconds): a token grant is milliseconds; seconds mean a stuck store. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const

/**
 * The token service's own counters and histogram on its registry: what the
 * OAuth endpoints, the session store and BetterAuth's key set report, plus
 * every answered request of a listener. Labels are bounded: outcomes and
 * causes from fixed sets, client ids of registered clients, route patterns
 * (never raw URLs).
 */
export function createServiceMetrics(metrics: Metrics) {
  const refreshes = metrics.counter(
    'token_service_refreshes_total',
    'Refresh-token grants by what the session store answered: rotated, repeated (within the reuse grace), reused, wrong_client, invalid_scope, invalid_target, invalid, malformed.',
    ['outcome'],
  )
  const reuse = metrics.counter('token_service_refresh_reuse_detected_total', 'Refresh-token reuse detected, by cause (spent_after_grace: a spent token presented after the grace window); each revokes its whole session.', ['cause'])
  const exchanges = metrics.counter('token_service_exchanges_total', 'Token exchanges that started a session, by client_id.', ['client'])
  const revocations = metrics.counter('token_service_session_revocations_total', 'Sessions ended by revocation, by how: token (RFC 7009 /oauth/revoke), session (one by id), all (every session of a user).', ['via'])
  const jwksFetches = metrics.counter('token_service_better_auth_jwks_fetches_total', "Fetches of BetterAuth's JWKS by outcome (ok, not_modified, error).", ['outcome'])
  const jwksHits = metrics.counter('token_service_better_auth_jwks_cache_hits_total', 'BetterAuth verification keys served from the cached key set without a fetch.')
  const rateLimited = metrics.counter('token_service_rate_limited_total', 'Requests refused with 429 by a rate limit, by listener and route.', ['listener', 'route'])
  const duration = metrics.histogram('http_request_duration_seconds', 'Time to answer an HTTP request, by listener, method, route pattern and status.', ['listener', 'method', 'route', 'status'], durationBuckets)

  return {
    /** The session service with exchanges (session starts) and revocations counted. */
    instrumentSessions(sessions: SessionService): SessionService {
      return {
        ...sessions,
        async start(input) {
          const grant = await sessions.start(input)
          exchanges.inc({ client: input.clientId })
          return grant
        },
        async revokeByToken(input) {
          const outcome = await sessions.revokeByToken(input)
          if (outcome === 'revoked') revocations.inc({ via: 'token' })
          return outcome
        },
        async revoke(sub, sid) {
          const revoked = await sessions.revoke(sub, sid)
          if (revoked) revocations.inc({ via: 'session' })
          return revoked
        },
        async revokeAll(sub) {
          const count = await sessions.revokeAll(sub)
          if (count > 0) revocations.inc({ via: 'all' }, count)
          return count
        },
      }
    },
    /** createSessionService's onRotate. */
    onRotate(outcome: SessionRotateOutcome['kind'] | 'malformed'): void {
      refreshes.inc({ outcome })
      if (outcome === 'reused') reuse.inc({ cause: 'spent_after_grace' })
    },
    /** BetterAuth's key set's onEvent. */
    onKeySetEvent(event: KeySetEvent): void {
      if (event.type === 'fetch') jwksFetches.inc({ outcome: event.outcome })
      else jwksHits.inc()
    },
    /** Times every answered request of `app` and counts its 429s. */
    observe(app: FastifyInstance, listener: 'public' | 'admin'): void {
      // One labelled child per (method, route, status), looked up by a string: prom-client would hash the
      // label object on every observation. The keys are bounded as the labels are (route patterns, never URLs).
      const children = new Map<string, Histogram.Internal<'listener' | 'method' | 'route' | 'status'>>()
      app.addHook('onResponse', (request, reply, done) => {
        const route = request.routeOptions.url ?? 'unmatched'
        const status = reply.statusCode
        const key = `${request.method} ${status} ${route}`
        let child = children.get(key)
        if (!child) {
          child = duration.labels({ listener, method: request.method, route, status: String(status) })
          children.set(key, child)
        }
        child.observe(reply.elapsedTime / 1000)
        if (status === 429) rateLimited.inc({ listener, route })
        done()
      })
    },
  }
}
