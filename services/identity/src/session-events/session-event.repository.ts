import { sql } from 'kysely'
import type { AuthDb } from '../database.ts'

/** Why a user's token-service sessions must end. */
export type SessionEventReason = 'banned' | 'deleted' | 'password_changed' | 'password_reset' | 'sessions_revoked'

export interface SessionEvent {
  id: string
  userId: string
  reason: SessionEventReason
  attempts: number
}

/** Our own table next to BetterAuth's (never touched by its migrations): the events not delivered yet. */
const table = 'identity_session_event'

/** Creates the outbox table; idempotent, run under the start-up lock with BetterAuth's migrations. */
export async function migrateOutbox(db: AuthDb): Promise<void> {
  await sql`create table if not exists ${sql.table(table)} (
    id bigserial primary key,
    user_id text not null,
    reason text not null,
    created_at timestamptz not null default now(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now()
  )`.execute(db)
  await sql`create index if not exists identity_session_event_due on ${sql.table(table)} (next_attempt_at)`.execute(db)
}

/**
 * The durable queue of "end every token-service session of this user" events.
 * A row lives until token-service acknowledged it (then it is deleted), so the
 * table holds exactly the backlog.
 */
export class SessionEventOutbox {
  readonly #db: AuthDb

  constructor(db: AuthDb) {
    this.#db = db
  }

  async record(userId: string, reason: SessionEventReason): Promise<void> {
    await this.#db.insertInto(table).values({ user_id: userId, reason }).execute()
  }

  /**
   * Claims up to `limit` due events for `leaseMs`: their next attempt moves to
   * the end of the lease, so another identity instance on the same database
   * skips them (SKIP LOCKED) while this one delivers.
   */
  async claimDue(limit: number, leaseMs: number): Promise<SessionEvent[]> {
    const { rows } = await sql<{ id: string; user_id: string; reason: SessionEventReason; attempts: number }>`
      update ${sql.table(table)} set next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
      where id in (select id from ${sql.table(table)} where next_attempt_at <= now() order by id limit ${limit} for update skip locked)
      returning id, user_id, reason, attempts`.execute(this.#db)
    return rows.map((row) => ({ id: String(row.id), userId: row.user_id, reason: row.reason, attempts: row.attempts })).sort((a, b) => Number(a.id) - Number(b.id))
  }

  async delivered(id: string): Promise<void> {
    await this.#db.deleteFrom(table).where('id', '=', id).execute()
  }

  async failed(id: string, retryInMs: number): Promise<void> {
    await sql`update ${sql.table(table)} set attempts = attempts + 1, next_attempt_at = now() + ${`${retryInMs} milliseconds`}::interval where id = ${id}`.execute(this.#db)
  }

  /** Events not delivered yet. */
  async pending(): Promise<number> {
    const row = await this.#db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow()
    return Number(row.count)
  }
}
