import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { LogController } from 'fastify'

/** The header a request id travels in, to and from every service and to upstream calls. */
export const requestIdHeader = 'x-request-id'

/**
 * What an incoming request id may be: 1–128 of [A-Za-z0-9._-]. Anything else (empty, longer, spaces,
 * control bytes, quotes, a second header) is replaced by a fresh id, so no client byte reaches a log
 * line unchecked. nginx applies the same pattern (infra/gateway/default.conf.template).
 */
export const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && requestIdPattern.test(value)
}

/** The caller's id when it is valid, else a new random UUID. */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const value = request.headers[requestIdHeader]
  return isValidRequestId(value) ? value : randomUUID()
}

/**
 * Fastify server options every service uses: the id is taken (validated) from X-Request-Id or
 * generated, and every request log line carries it as `request_id`.
 */
export function requestIdServerOptions() {
  return {
    // Fastify's own header support would take any value as it is; genReqId validates it first.
    requestIdHeader: false,
    genReqId: requestIdOf,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
  } as const
}

const current = new AsyncLocalStorage<string>()

/** Runs `fn` with `id` as the current request id (what {@link withRequestId} forwards). */
export function runWithRequestId<T>(id: string, fn: () => T): T {
  return current.run(id, fn)
}

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore()
}

/**
 * A fetch that passes the current request's id on (X-Request-Id) to the service it calls,
 * e.g. a JWKS fetch a request triggered, so both services' logs can be joined on it.
 */
export function withRequestId(fetchImpl?: typeof globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const id = currentRequestId()
    if (id === undefined) return (fetchImpl ?? globalThis.fetch)(input, init)
    const headers = new Headers(init?.headers)
    if (!headers.has(requestIdHeader)) headers.set(requestIdHeader, id)
    return (fetchImpl ?? globalThis.fetch)(input, { ...init, headers })
  }
}
