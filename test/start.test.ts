// scripts/start.ts (the README's start command) on free ports with its own data
// directory, so it never meets a developer's running stack.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { freeStackPorts, startScript, startStack } from './helpers/stack.ts'

async function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [startScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, output }
}

t.test('a port already in use is named, and nothing is started', async (t) => {
  const blocker = createServer()
  await new Promise<void>((done) => blocker.listen({ host: '127.0.0.1', port: 0 }, done))
  t.teardown(() => new Promise<void>((done) => blocker.close(() => done())))
  const taken = (blocker.address() as { port: number }).port
  const dataDir = mkdtempSync(join(tmpdir(), 'start-taken-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const ports: Record<string, string> = { ...(await freeStackPorts()), TOKEN_SERVICE_PORT: String(taken) }
  const { code, output } = await runToExit({ ...ports, START_DATA_DIR: dataDir })
  t.equal(code, 1)
  t.match(output, `port ${taken} (token-service) is already in use`)
  t.match(output, /already running in another terminal/)
  t.notMatch(output, /todo-auth is running/)
  // Nothing was left listening.
  const probe = createServer()
  await new Promise<void>((done, fail) => probe.once('error', fail).listen({ host: '127.0.0.1', port: Number(ports.GATEWAY_PORT) }, done))
  await new Promise<void>((done) => probe.close(() => done()))
})

t.test('bad settings are reported before anything starts', async (t) => {
  const { code, output } = await runToExit({ GATEWAY_PORT: 'eighty', GATEWAY: 'apache', START_DATA_DIR: join(tmpdir(), 'never-created') })
  t.equal(code, 2)
  t.match(output, 'GATEWAY_PORT must be a port number')
  t.match(output, 'GATEWAY must be nginx or node')
})

t.test('a restart keeps the secrets, the users and their todos', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'start-restart-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const ports = await freeStackPorts()
  // The Node gateway here (the e2e test runs nginx when installed), so both of start's paths run.
  const env = { ...ports, GATEWAY: 'node' }
  const email = `restart-${Date.now()}@example.test`
  const password = 'a long enough password'

  async function session(origin: string, path: 'sign-up/email' | 'sign-in/email'): Promise<string> {
    const response = await fetch(`${origin}/api/auth/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ email, password, name: 'Restart' }),
    })
    t.equal(response.status, 200, path)
    const cookie = response.headers
      .getSetCookie()
      .find((c) => c.includes('session_token='))!
      .split(';')[0]!
    const jwt = ((await (await fetch(`${origin}/api/auth/token`, { headers: { cookie } })).json()) as { token: string }).token
    const token = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }),
    })
    t.equal(token.status, 200, 'exchange')
    return ((await token.json()) as { access_token: string }).access_token
  }

  const first = await startStack(env, dataDir)
  t.equal(first.origin, `http://localhost:${ports.GATEWAY_PORT}`, 'it prints the gateway origin to open')
  t.match(first.lines.join('\n'), /gateway: node/)
  const secretsFile = join(dataDir, 'dev-secrets.json')
  const secrets = readFileSync(secretsFile, 'utf8')
  t.equal(statSync(secretsFile).mode & 0o777, 0o600, 'dev secrets are readable by their owner only')
  const page = await fetch(first.origin)
  t.equal(page.status, 200, 'the demo page is served')
  await page.arrayBuffer()
  const token = await session(first.origin, 'sign-up/email')
  const created = await fetch(`${first.origin}/todos`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'survives a restart' }) })
  t.equal(created.status, 201)
  await created.arrayBuffer()
  t.equal(await first.stop(), 0, 'Ctrl-C: exit 0')
  t.match(first.lines.join('\n'), /start: stopped/)

  const second = await startStack(env, dataDir)
  t.teardown(() => second.stop())
  t.equal(readFileSync(secretsFile, 'utf8'), secrets, 'the same secrets')
  const again = await session(second.origin, 'sign-in/email')
  const todos = (await (await fetch(`${second.origin}/todos`, { headers: { authorization: `Bearer ${again}` } })).json()) as { title: string }[]
  t.same(
    todos.map((x) => x.title),
    ['survives a restart'],
  )
  const printed = [...first.lines, ...second.lines].join('\n')
  for (const value of Object.values(JSON.parse(secrets) as Record<string, string>)) t.notOk(printed.includes(value), 'no secret is printed')
  t.equal(await second.stop(), 0)
})
