import { runAutocannon } from './autocannon-load.ts'
import type { LoadOptions, LoadResult } from './load.types.ts'
import { runWrk, wrkInstalled } from './wrk-load.ts'

export type { Engine, LoadOptions, LoadResult } from './load.types.ts'

/**
 * wrk (C, event loop, LuaJIT) when it is on PATH, else autocannon (npm). On a 2-core machine the
 * generator shares the CPU with the server: wrk needs a fraction of autocannon's CPU for the same
 * request rate, so the server, not the generator, is what gets measured. BENCH_LOAD overrides.
 */
export const defaultEngine: 'wrk' | 'autocannon' = (() => {
  const wanted = process.env.BENCH_LOAD
  if (wanted === 'wrk' || wanted === 'autocannon') return wanted
  return wrkInstalled() ? 'wrk' : 'autocannon'
})()

/** Drives load from outside the server process. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const paced = options.setupRequest !== undefined || options.onResponse !== undefined || options.overallRate !== undefined
  const engine = paced ? 'autocannon' : (options.engine ?? defaultEngine)
  return engine === 'wrk' ? runWrk(options) : runAutocannon(options)
}
