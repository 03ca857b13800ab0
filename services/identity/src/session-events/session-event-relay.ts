import type { FastifyBaseLogger } from 'fastify'
import type { SessionEvent, SessionEventOutbox } from './session-event.repository.ts'

export interface RelayOptions {
  outbox: SessionEventOutbox
  /** Origin of token-service's admin listener, e.g. http://token-service:3102. */
  adminUrl: string
  /** token-service's ADMIN_TOKEN. Only ever put in the Authorization header, never logged. */
  adminToken: string
  log: FastifyBaseLogger
  /** How often the outbox is read when nothing woke the relay (events of other instances, due retries). */
  pollMs?: number
  /** One delivery attempt gives up after this long. */
  requestTimeoutMs?: number
}

/** Delivery attempts in flight together. */
const batchSize = 10
/** A claimed event is skipped by other instances this long; longer than one attempt can take. */
const leaseMs = 15_000
export const firstRetryMs = 500
export const maxRetryMs = 10_000

/** Delay before the next attempt after `failures` failed ones: 0.5 s doubling to 10 s, minus up to 20 % jitter. */
export function retryDelayMs(failures: number, random = Math.random): number {
  const base = Math.min(firstRetryMs * 2 ** Math.max(0, failures - 1), maxRetryMs)
  return Math.round(base * (1 - 0.2 * random()))
}

type Outcome = { ok: true } | { ok: false; status?: number; error?: string; retryAfterMs?: number }

/**
 * Delivers the outbox to token-service: for every event,
 * `DELETE {adminUrl}/admin/users/{sub}/sessions` with the admin bearer token,
 * until token-service answers 204 (idempotent, so a repeat after a lost
 * answer is harmless). Any other answer or a network error is retried with
 * backoff, forever: an event is never dropped. The loop reads the outbox every
 * `pollMs` and at once when `wake()` says this process recorded an event.
 */
export class SessionEventRelay {
  readonly #options: Required<RelayOptions>
  readonly #abort = new AbortController()
  #running: Promise<void> | undefined
  #woken = false
  #wakeUp: (() => void) | undefined

  constructor(options: RelayOptions) {
    this.#options = { pollMs: 1000, requestTimeoutMs: 5000, ...options, adminUrl: options.adminUrl.replace(/\/+$/, '') }
  }

  start(): void {
    this.#running ??= this.#loop()
  }

  /** An event was just recorded: deliver it now instead of at the next poll. */
  wake(): void {
    this.#woken = true
    this.#wakeUp?.()
  }

  /** Stops the loop and aborts attempts in flight; their events stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.#abort.abort()
    this.#wakeUp?.()
    await this.#running
  }

  async #loop(): Promise<void> {
    const { outbox, log } = this.#options
    while (!this.#abort.signal.aborted) {
      this.#woken = false
      let claimed = 0
      try {
        const events = await outbox.claimDue(batchSize, leaseMs)
        claimed = events.length
        await Promise.all(events.map((event) => this.#deliver(event)))
      } catch (error) {
        if (this.#abort.signal.aborted) break
        log.warn({ event: 'session_event_outbox_failed', err: error }, 'cannot read the session event outbox; retrying')
      }
      // A full batch may mean more are due; otherwise wait for a wake-up or the next poll.
      if (claimed < batchSize && !this.#woken) await this.#pause()
    }
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#options.pollMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wakeUp = () => {
        this.#wakeUp = undefined
        done()
      }
    })
  }

  async #deliver(event: SessionEvent): Promise<void> {
    const { outbox, log } = this.#options
    const outcome = await this.#send(event.userId)
    if (this.#abort.signal.aborted) return
    const fields = { sub: event.userId, reason: event.reason, eventId: event.id, attempt: event.attempts + 1 }
    if (outcome.ok) {
      await outbox.delivered(event.id)
      log.info({ event: 'session_event_delivered', ...fields }, 'token-service ended every session of the user')
      return
    }
    const retryInMs = Math.max(retryDelayMs(event.attempts + 1), outcome.retryAfterMs ?? 0)
    await outbox.failed(event.id, retryInMs)
    const refused = outcome.status === 401 || outcome.status === 403
    log[refused ? 'error' : 'warn'](
      { event: 'session_event_delivery_failed', ...fields, ...(outcome.status ? { status: outcome.status } : { error: outcome.error }), retryInMs },
      refused ? 'token-service refused TOKEN_SERVICE_ADMIN_TOKEN; retrying' : 'cannot deliver the session event to token-service; retrying',
    )
  }

  async #send(userId: string): Promise<Outcome> {
    const { adminUrl, adminToken, requestTimeoutMs } = this.#options
    try {
      const response = await fetch(`${adminUrl}/admin/users/${encodeURIComponent(userId)}/sessions`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${adminToken}` },
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(requestTimeoutMs)]),
      })
      await response.body?.cancel()
      if (response.status === 204) return { ok: true }
      const retryAfter = Number(response.headers.get('retry-after'))
      return { ok: false, status: response.status, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter, 120) * 1000 } : {}) }
    } catch (error) {
      // Only a code or an error name: never a message that could quote the request.
      const cause = (error as { cause?: { code?: string } }).cause
      return { ok: false, error: cause?.code ?? (error as Error).name }
    }
  }
}
