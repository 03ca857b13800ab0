import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { freePort } from './ports.ts'

export const run = promisify(execFile)

/**
 * Real Redis servers for tests that need more than the machine's one node:
 * a Redis Cluster and a Sentinel group, each started from Debian's
 * `redis-server` on loopback ports in a temporary folder of the test's own,
 * and stopped (folder removed) by stop() or when the test process exits.
 */
export interface RedisNode {
  readonly host: string
  readonly port: number
}

export interface RedisServer extends RedisNode {
  /** SIGKILL: the node dies as in a crash. */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT: the node hangs with its sockets open. */
  pause(): void
  resume(): void
  readonly child: ChildProcess
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export async function startServer(dir: string, args: string[], port: number): Promise<RedisServer> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  let exited = false
  child.once('exit', () => {
    exited = true
    live.delete(child)
  })
  await waitFor(async () => (await cli(port, 'PING')) === 'PONG', 10_000, `redis-server on port ${port} did not answer`)
  return {
    host: '127.0.0.1',
    port,
    child,
    async kill() {
      if (exited) return
      const done = once(child, 'exit')
      child.kill('SIGKILL')
      await done
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
  }
}

/** One redis-cli command against a loopback port; the reply as text ('' when it cannot connect). */
export async function cli(port: number, ...command: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command], { timeout: 5000 })
    return stdout.trim()
  } catch {
    return ''
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(message)
}

export const common = ['--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no', '--loglevel', 'warning']

/** One standalone node on a free loopback port, no persistence: a Redis of the test's own to pause or kill. */
export async function startRedisServer(): Promise<RedisServer & { readonly url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-server-'))
  const port = await freePort()
  try {
    const server = await startServer(dir, [...common, '--port', String(port), '--dir', dir], port)
    return Object.assign(server, {
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        server.resume()
        await server.kill()
        rmSync(dir, { recursive: true, force: true })
      },
    })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}
