// The README's start command (`pnpm start`): identity, token-service, todo-api
// and the gateway on SPEC §1's ports, embedded databases unless REDIS_URL /
// DATABASE_URL are set, development secrets kept in .data/. Ctrl-C stops all.
// docs/deployment.md describes every variable it reads.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { loadOrCreateDevSecrets } from '../infra/dev/dev-secrets.ts'
import { portVariables, publicOrigin, readStackSettings, stackComponents, type Component, type PortName } from '../infra/dev/stack.ts'

const say = (line: string) => process.stdout.write(`${line}\n`)
const complain = (line: string) => process.stderr.write(`${line}\n`)

const nginxAvailable = spawnSync(process.env.NGINX_BINARY ?? 'nginx', ['-v'], { stdio: 'ignore' }).status === 0
const { settings, problems } = readStackSettings(process.env, nginxAvailable)
if (problems.length > 0) {
  for (const problem of problems) complain(`start: ${problem}`)
  process.exit(2)
}

/** Checked before anything starts, so the message names the port and its owner-to-be. */
async function portTaken(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'EADDRINUSE' || error.code === 'EACCES'))
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => done(false)))
  })
}

const components = stackComponents(settings, loadOrCreateDevSecrets(settings.dataDir).secrets)
const taken: string[] = []
for (const component of components) {
  for (const name of component.ports) {
    const port = settings.ports[name]
    if (await portTaken(port)) taken.push(`port ${port} (${describePort(name)}) is already in use`)
  }
}
if (taken.length > 0) {
  for (const line of taken) complain(`start: ${line}`)
  complain('start: is the stack already running in another terminal? Stop it, or free the port, or move a component with its variable')
  complain(`start: (${Object.values(portVariables).join(', ')}; the gateway's port also sets the public origin)`)
  process.exit(1)
}

function describePort(name: PortName): string {
  return { identity: 'identity', tokenService: 'token-service', tokenServiceAdmin: 'token-service admin', todoApi: 'todo-api', gateway: 'gateway' }[name]
}

interface Running {
  component: Component
  child: ChildProcess
  exited: Promise<number | string | null>
}

const running: Running[] = []
let stopping = false

/**
 * One line per log line, prefixed with the component: pino JSON shortened to
 * level, event and message; a request as one line when it completes.
 */
function relay(component: Component, stream: NodeJS.ReadableStream, onListening: (listener: string) => void) {
  const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
  const requests = new Map<string, string>()
  createInterface({ input: stream }).on('line', (line) => {
    let shown = line
    try {
      const entry = JSON.parse(line) as {
        level?: number
        msg?: string
        event?: string
        listener?: string
        url?: string
        reqId?: string
        req?: { method?: string; url?: string }
        res?: { statusCode?: number }
        responseTime?: number
        err?: { message?: string }
      }
      if (entry.event === 'listening' && entry.listener) onListening(entry.listener)
      if (entry.msg === 'incoming request' && entry.reqId) {
        requests.set(entry.reqId, `${entry.req?.method} ${entry.req?.url}`)
        return
      }
      if (entry.msg === 'request completed' && entry.reqId) {
        const request = requests.get(entry.reqId) ?? 'request'
        requests.delete(entry.reqId)
        shown = `${request} → ${entry.res?.statusCode} (${Math.round(entry.responseTime ?? 0)} ms)`
      } else {
        const parts = [levels[entry.level ?? 30] ?? String(entry.level), entry.event, entry.msg, entry.url, entry.err?.message].filter(Boolean)
        shown = parts.join(' ')
      }
    } catch {}
    say(`[${component.name}] ${shown}`)
  })
}

function start(component: Component): Promise<void> {
  const env: Record<string, string> = {}
  // Nothing to drain for: the gateway stops first (stopAll). SHUTDOWN_DRAIN in the caller's environment still wins.
  for (const [k, v] of Object.entries({ SHUTDOWN_DRAIN: '0', ...process.env, ...component.env })) if (v !== undefined) env[k] = v
  const child = spawn(process.execPath, [component.entry], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | string | null>((done) => child.once('exit', (code, signal) => done(code ?? signal)))
  running.push({ component, child, exited })
  return new Promise((ready, fail) => {
    const pending = new Set(component.listeners)
    const onListening = (listener: string) => {
      pending.delete(listener)
      if (pending.size === 0) ready()
    }
    relay(component, child.stdout!, onListening)
    relay(component, child.stderr!, onListening)
    void exited.then((code) => {
      if (stopping) return
      fail(new Error(`${component.name} exited (${code}) before it was ready`))
      complain(`start: ${component.name} stopped (exit ${code}); stopping the others`)
      void stopAll(1)
    })
  })
}

async function stopAll(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true
    // The gateway first, so nothing reaches a service that is closing.
    for (const { child, exited } of [...running].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    if (exitCode === 0) say('start: stopped')
    process.exit(exitCode)
  }
  return new Promise<never>(() => {})
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll(0))

const origin = publicOrigin(settings)
try {
  // One after the other, as compose orders them: token-service reads identity's JWKS and todo-api
  // token-service's (a cold verifier that finds no keys answers 503 until its cooldown passes);
  // the gateway comes last.
  for (const component of components) await start(component)
} catch (error) {
  complain(`start: ${(error as Error).message}`)
  await stopAll(1)
}

say('')
say(`todo-auth is running: open ${origin}`)
say(`  gateway: ${settings.gateway}${settings.gateway === 'node' ? ' (development gateway; install nginx to use the real one)' : ''}`)
say(`  data: ${settings.redisUrl ? 'Redis at REDIS_URL' : 'token-service in memory (sessions end on restart)'}, ${settings.identityDatabaseUrl ? 'PostgreSQL' : `embedded PGlite in ${settings.dataDir}`}`)
say(`  token-service admin API: http://127.0.0.1:${settings.ports.tokenServiceAdmin} (token in ${settings.dataDir}/dev-secrets.json)`)
say('  Ctrl-C stops everything.')
