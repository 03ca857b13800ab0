// What a load run is asked to do and what it measured, whichever generator drives it.

export interface LoadResult {
  /** Rotation chains only: requests sent while every chain was waiting for its answer (sent as invalid grants). */
  starved?: number
  rps: number
  /** Latency percentiles, ms. */
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
  /** Which load generator measured this. */
  engine: Engine
  /** True when a pool of single-use tokens ran out and was reused (the figure then includes cache hits). */
  reused?: boolean
}

/** `paced`: bench/lib/paced.ts, a constant-rate open loop. */
export type Engine = 'wrk' | 'autocannon' | 'paced'

export interface LoadOptions {
  url: string
  connections?: number
  durationSec: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** `Authorization: Bearer <token>` taken from this pool in turn, one per request. */
  tokens?: readonly string[]
  /** Request bodies taken in turn, one per request. */
  bodies?: readonly string[]
  /**
   * Rotation chains (refresh grants): each request spends one token from a pool seeded with `seeds`;
   * each 200 answer puts the `refresh_token` it returns back into the pool. The body is `bodyPrefix`
   * followed by the token (base64url: no escaping needed).
   */
  chains?: { seeds: readonly string[]; bodyPrefix: string }
  /**
   * Called for every request: returns the headers/body to send (request bodies that change,
   * refresh chains). autocannon only: wrk cannot tell connections apart in its scripts.
   */
  setupRequest?: (request: { headers?: Record<string, string>; body?: string }, context: Record<string, unknown>) => { headers?: Record<string, string>; body?: string }
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
  /** Requests per second to send at most (p99 at half of peak). autocannon only: wrk cannot pace. */
  overallRate?: number
  /** Force a generator; default {@link defaultEngine}. */
  engine?: Engine
}
