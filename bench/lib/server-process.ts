import { readFileSync } from 'node:fs'

// The measured server processes: how they are started (flags, environment) and what they used (/proc).

/** Peak resident set size of a process so far (Linux VmHWM), in MB. */
export function peakRssMb(pid: number | undefined): number | null {
  return statusMb(pid, 'VmHWM')
}

/** Resident set size of a process now (Linux VmRSS), in MB. */
export function rssNowMb(pid: number | undefined): number | null {
  return statusMb(pid, 'VmRSS')
}

function statusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  if (pid === undefined) return null
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1])
    return Number.isFinite(kb) ? Math.round(kb / 102.4) / 10 : null
  } catch {
    return null
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, 100 ticks per second). */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return null
  }
}

/** Node flags for every server (BENCH_EXEC_ARGV, space-separated): the ones NODE_OPTIONS refuses, such as --cpu-prof or --trace-gc. */
export function serverExecArgv(): string[] {
  return process.env.BENCH_EXEC_ARGV?.split(' ').filter((flag) => flag.length > 0) ?? []
}

/**
 * Environment every spawned server gets on top of its own: NODE_ENV removed (behaviour is switched
 * by explicit settings), and BENCH_NODE_OPTIONS, when set, as NODE_OPTIONS (e.g. a V8 heap flag
 * whose effect on RSS and throughput is being measured).
 */
export function serverEnv(): Record<string, string | undefined> {
  return { NODE_ENV: undefined, ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) }
}
