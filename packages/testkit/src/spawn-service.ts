import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/**
 * Convention every service's server.ts follows: once a listener is bound it
 * writes one JSON log line `{ "event": "listening", "listener": "<name>", "url": "<url>" }`.
 */
export interface SpawnedService {
  /** URL of each listener by name (`public`, `admin`, …). */
  urls: Record<string, string>
  /** URL of the `public` listener. */
  url: string
  child: ChildProcess
  /** Every stdout/stderr line so far, for assertions (and for debugging a failing test). */
  lines: string[]
  /** SIGTERM, then waits for exit (SIGKILL after `graceMs`). Resolves to the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>
  /** SIGKILL: the process dies without cleaning up (a crash). */
  kill(): Promise<void>
}

export interface SpawnServiceOptions {
  /** Path of the service entry file (a .ts file run by Node 24's type stripping). */
  entry: string
  env: Record<string, string | undefined>
  /** Listener names to wait for; default ['public']. */
  listeners?: string[]
  /** How long to wait for all listeners; default 30 s. */
  timeoutMs?: number
  /** Node options before the entry (flags NODE_OPTIONS refuses, such as --trace-gc or --cpu-prof). */
  execArgv?: string[]
}

export async function spawnService(options: SpawnServiceOptions): Promise<SpawnedService> {
  const wanted = options.listeners ?? ['public']
  const env: Record<string, string> = {}
  // No shutdown drain unless a test asks for one: stop() would otherwise wait SHUTDOWN_DRAIN (5 s) per process.
  for (const [k, v] of Object.entries({ SHUTDOWN_DRAIN: '0', ...process.env, ...options.env })) {
    if (v !== undefined) env[k] = v
  }
  // Coverage of children is collected by tap through NODE_V8_COVERAGE, which the env keeps.
  const child = spawn(process.execPath, [...(options.execArgv ?? []), options.entry], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const urls: Record<string, string> = {}
  let exited = false
  child.once('exit', () => {
    exited = true
  })

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${options.entry} did not report listeners ${wanted.join(',')} in time:\n${lines.slice(-30).join('\n')}`))
    }, options.timeoutMs ?? 30_000)
    const onLine = (line: string) => {
      lines.push(line)
      if (!line.includes('"listening"')) return
      try {
        const entry = JSON.parse(line) as { event?: string; listener?: string; url?: string }
        if (entry.event === 'listening' && entry.listener && entry.url) urls[entry.listener] = entry.url
      } catch {
        return
      }
      if (wanted.every((name) => urls[name])) {
        clearTimeout(timer)
        resolve()
      }
    }
    createInterface({ input: child.stdout! }).on('line', onLine)
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line))
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${options.entry} exited (${code ?? signal}) before listening:\n${lines.slice(-30).join('\n')}`))
    })
  })
  try {
    await ready
  } catch (error) {
    if (!exited) child.kill('SIGKILL')
    throw error
  }

  return {
    urls,
    url: urls.public ?? Object.values(urls)[0]!,
    child,
    lines,
    async stop(graceMs = 10_000) {
      if (exited) return child.exitCode ?? child.signalCode
      const done = once(child, 'exit') as Promise<[number | null, string | null]>
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const [code, signal] = await done
      clearTimeout(timer)
      return code ?? signal
    },
    async kill() {
      if (exited) return
      const done = once(child, 'exit')
      child.kill('SIGKILL')
      await done
    },
  }
}
