import type { FastifyInstance } from 'fastify'
import type { IdentityConfig } from '../config.ts'
import type { IdentityDatabase } from '../database.ts'
import { SessionEventOutbox } from './session-event.repository.ts'
import type { RecordSessionEvent } from './session-event-hooks.ts'
import { SessionEventRelay } from './session-event-relay.ts'

/**
 * The channel from identity to token-service (docs/sessions.md): BetterAuth's
 * hooks record events in the outbox table, the relay delivers them to
 * token-service's admin API. Undefined (and a warning) without
 * TOKEN_SERVICE_ADMIN_URL. The relay is started by the caller once the app
 * is ready, and stopped before the database closes.
 */
export function createSessionEvents(config: IdentityConfig, database: IdentityDatabase, app: FastifyInstance): { record: RecordSessionEvent; relay: SessionEventRelay } | undefined {
  if (!config.tokenServiceAdmin) {
    app.log.warn({ event: 'session_events_disabled' }, 'TOKEN_SERVICE_ADMIN_URL is not set: banning, deleting or a password change does not end token-service sessions')
    return undefined
  }
  const outbox = new SessionEventOutbox(database.db)
  const relay = new SessionEventRelay({ outbox, adminUrl: config.tokenServiceAdmin.url, adminToken: config.tokenServiceAdmin.token, log: app.log.child({ component: 'session-events' }) })
  // preClose runs before every onClose hook, so the relay is gone before the database closes.
  app.addHook('preClose', () => relay.stop())
  return {
    relay,
    async record(userId, reason) {
      await outbox.record(userId, reason)
      app.log.info({ event: 'session_event_recorded', sub: userId, reason }, 'token-service sessions of the user will end')
      relay.wake()
    },
  }
}
