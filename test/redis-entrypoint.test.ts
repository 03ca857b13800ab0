// infra/redis/redis-entrypoint.sh, the compose Redis containers' entrypoint, run for real here
// with the local redis-server: the password comes from a secret file and ends up nowhere else.
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort } from '@todo-auth/testkit'
import { repoRoot } from './helpers/gateways.ts'

const entrypoint = resolve(repoRoot, 'infra/redis/redis-entrypoint.sh')
const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'redis-entrypoint-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const ping = (port: number, password?: string) => run('redis-cli', ['-p', String(port), 'ping'], { env: { PATH: process.env.PATH ?? '', ...(password ? { REDISCLI_AUTH: password } : {}) } }).then((r) => r.stdout.trim())

t.test('redis-server starts with requirepass from REDIS_PASSWORD_FILE, off the command line and the environment', async (t) => {
  const password = randomBytes(24).toString('hex')
  const file = join(dir, 'redis_password')
  writeFileSync(file, `${password}\n`)
  const port = await freePort()
  const child = spawn('sh', [entrypoint, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { env: { PATH: process.env.PATH ?? '', REDIS_PASSWORD_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  })
  const output: string[] = []
  for await (const line of createInterface({ input: child.stdout })) {
    output.push(line)
    if (line.includes('Ready to accept connections')) break
  }
  t.match(await ping(port), /NOAUTH/, 'without the password: refused')
  t.equal(await ping(port, password), 'PONG', 'with it: accepted')
  t.notMatch(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), password, 'not on the command line')
  t.notMatch(readFileSync(`/proc/${child.pid}/environ`, 'utf8'), password, 'not in the environment')
  t.notMatch(output.join('\n'), password, 'not in the log')
})

t.test('an empty, missing or unsafe password file stops the container with a clear message', async (t) => {
  const cases: Array<[string, string | null, RegExp]> = [
    ['empty', '\n', /is empty/],
    ['missing', null, /cannot read REDIS_PASSWORD_FILE/],
    ['unsafe', 'a b"c\n', /letters, digits/],
  ]
  for (const [what, content, message] of cases) {
    const file = join(dir, `pw-${what}`)
    if (content !== null) writeFileSync(file, content)
    const failed = await run('sh', [entrypoint, '--port', '0'], { env: { PATH: process.env.PATH ?? '', REDIS_PASSWORD_FILE: file } }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    )
    t.equal(failed?.code, 1, `${what}: exit 1`)
    t.match(failed?.stderr, message, what)
  }
})
