// Process entry of the nginx gateway outside a container: environment → gateway
// config → rendered nginx config in a temporary directory → Debian's nginx in the
// foreground. Logs {"event":"listening"} once the port accepts connections, like
// every service, and stops nginx gracefully on SIGTERM/SIGINT.
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, closeSync, cpSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatewayConfigError, loadGatewayConfig } from './gateway-config.ts'
import { renderGatewayConf, renderMainConf } from './nginx.ts'

function log(level: number, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), component: 'gateway', ...fields })}\n`)
}

let config
try {
  config = loadGatewayConfig(process.env)
} catch (error) {
  if (!(error instanceof GatewayConfigError)) throw error
  log(60, { event: 'config_invalid', msg: error.message, problems: error.problems })
  process.exit(78)
}

// nginx retries a taken port for a few seconds and then only logs it; saying so at once is clearer.
const taken = await new Promise<boolean>((done) => {
  const probe = createServer()
  probe.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'EADDRINUSE'))
  probe.listen({ host: config.host, port: config.port, exclusive: true }, () => probe.close(() => done(false)))
})
if (taken) {
  log(60, { event: 'port_in_use', msg: `port ${config.port} on ${config.host} is already in use` })
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'gateway-nginx-'))
// nginx started as root runs its workers as an unprivileged user: they must reach this directory.
chmodSync(dir, 0o755)
const cleanup = () => rmSync(dir, { recursive: true, force: true })
// The same holds for the web root: a checkout under a private (0700) directory, such as a fresh
// clone in `mktemp -d`, is unreadable to the workers, so they serve a copy kept beside the config.
const webRoot = join(dir, 'web')
cpSync(config.webRoot, webRoot, { recursive: true })
chmodSync(webRoot, 0o755)
// The access log goes to a file of this directory (in the image the same path is linked to stdout;
// here stdout is a socket, which nginx cannot open), and every line of it to this process's stdout.
const accessLog = join(dir, 'access.log')
writeFileSync(accessLog, '')
chmodSync(accessLog, 0o666)
writeFileSync(join(dir, 'gateway.conf'), renderGatewayConf({ ...config, webRoot }).replace(' /var/log/nginx/access.log ', ` ${accessLog} `))
writeFileSync(join(dir, 'nginx.conf'), renderMainConf(dir, join(dir, 'gateway.conf'), config.logLevel))
const args = ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')]

const check = spawnSync(config.nginxBinary, ['-t', '-q', ...args], { encoding: 'utf8' })
if (check.error || check.status !== 0) {
  cleanup()
  const detail = check.error ? String(check.error.message) : check.stderr.trim()
  const portTaken = /Address already in use/.test(detail)
  log(60, {
    event: portTaken ? 'port_in_use' : 'nginx_config_invalid',
    msg: portTaken ? `port ${config.port} on ${config.host} is already in use` : `nginx rejected the gateway config: ${detail}`,
  })
  process.exit(1)
}

const nginx = spawn(config.nginxBinary, args, { stdio: ['ignore', 'inherit', 'pipe'] })
let accessLogRead = 0
const tail = setInterval(() => {
  try {
    const fd = openSync(accessLog, 'r')
    const chunk = Buffer.alloc(64 * 1024)
    for (let n = readSync(fd, chunk, 0, chunk.length, accessLogRead); n > 0; n = readSync(fd, chunk, 0, chunk.length, accessLogRead)) {
      process.stdout.write(chunk.subarray(0, n))
      accessLogRead += n
    }
    closeSync(fd)
  } catch {
    // The directory is gone: nginx is stopping.
  }
}, 100)
tail.unref()
let stderr = ''
nginx.stderr.on('data', (chunk: Buffer) => {
  stderr += chunk.toString('utf8')
  process.stderr.write(chunk)
})
let stopping = false
nginx.on('exit', (code, signal) => {
  cleanup()
  if (stopping) process.exit(0)
  const portTaken = /Address already in use/.test(stderr)
  log(60, {
    event: portTaken ? 'port_in_use' : 'nginx_exited',
    msg: portTaken ? `port ${config.port} on ${config.host} is already in use` : `nginx exited (${code ?? signal})`,
  })
  process.exit(1)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stopping = true
    // SIGQUIT: nginx's graceful shutdown (finishes the requests in flight).
    nginx.kill('SIGQUIT')
    setTimeout(() => nginx.kill('SIGKILL'), 10_000).unref()
  })
}

const connectHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host
const deadline = Date.now() + 15_000
while (!stopping) {
  const up = await new Promise<boolean>((done) => {
    const socket = connect({ host: connectHost, port: config.port }, () => {
      socket.destroy()
      done(true)
    })
    socket.on('error', () => done(false))
  })
  if (up) break
  if (Date.now() > deadline || nginx.exitCode !== null) {
    log(60, { event: 'nginx_not_listening', msg: `nginx did not accept connections on ${connectHost}:${config.port}` })
    nginx.kill('SIGKILL')
    process.exit(1)
  }
  await new Promise((r) => setTimeout(r, 50))
}
const shownHost = connectHost.includes(':') ? `[${connectHost}]` : connectHost
log(30, { event: 'listening', listener: 'public', url: `http://${shownHost}:${config.port}`, gateway: 'nginx', msg: 'listening' })
