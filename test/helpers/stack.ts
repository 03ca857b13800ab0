import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { freePort, repoRoot } from './gateways.ts'

export interface StartedStack {
  /** The printed address to open, e.g. http://localhost:41234. */
  origin: string
  ports: Record<string, number>
  dataDir: string
  child: ChildProcess
  lines: string[]
  /** Ctrl-C: SIGINT, then the exit code. */
  stop(): Promise<number | string | null>
}

export const startScript = resolve(repoRoot, 'scripts/start.ts')

/** Free ports for every component, so a test stack never meets a developer's running one. */
export async function freeStackPorts(): Promise<Record<string, string>> {
  const names = ['IDENTITY_PORT', 'TOKEN_SERVICE_PORT', 'TOKEN_SERVICE_ADMIN_PORT', 'TODO_API_PORT', 'GATEWAY_PORT']
  const env: Record<string, string> = {}
  for (const name of names) env[name] = String(await freePort())
  return env
}

/** Runs scripts/start.ts (the README's start command) until it prints where to open the app. */
export async function startStack(env: Record<string, string> = {}, dataDir?: string): Promise<StartedStack> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'stack-data-'))
  const ports = { ...(await freeStackPorts()), ...env }
  const childEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, START_DATA_DIR: dir, ...ports })) {
    // The caller's stores and databases never leak into a test stack.
    if (v !== undefined && !['REDIS_URL', 'DATABASE_URL', 'IDENTITY_DATABASE_URL', 'TODO_API_DATABASE_URL'].includes(k)) childEnv[k] = v
  }
  for (const [k, v] of Object.entries(env)) childEnv[k] = v
  const child = spawn(process.execPath, [startScript], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const exited = new Promise<number | string | null>((done) => child.once('exit', (code, signal) => done(code ?? signal)))
  const origin = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the stack did not start in time:\n${lines.slice(-40).join('\n')}`)), 90_000)
    let printed: string | undefined
    const onLine = (line: string) => {
      lines.push(line)
      printed ??= /todo-auth is running: open (\S+)/.exec(line)?.[1]
      // The banner's last line: everything it says has been read.
      if (printed && line.includes('Ctrl-C stops everything')) {
        clearTimeout(timer)
        done(printed)
      }
    }
    createInterface({ input: child.stdout! }).on('line', onLine)
    createInterface({ input: child.stderr! }).on('line', onLine)
    void exited.then((code) => {
      clearTimeout(timer)
      fail(new Error(`start exited (${code}) before it was ready:\n${lines.slice(-40).join('\n')}`))
    })
  })
  let stopped: Promise<number | string | null> | undefined
  return {
    origin,
    ports: Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, Number(v)])),
    dataDir: dir,
    child,
    lines,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        const code = await exited
        clearTimeout(timer)
        if (!dataDir) rmSync(dir, { recursive: true, force: true })
        return code
      })()
      return stopped
    },
  }
}
