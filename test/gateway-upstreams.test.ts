// An upstream of several servers (TOKEN_SERVICE_UPSTREAM=host:port,host:port):
// both gateways balance over every one of them, as the fleet test relies on.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import t from 'tap'
import { loadGatewayConfig } from '../infra/gateway/gateway-config.ts'
import { renderGatewayConf } from '../infra/gateway/nginx.ts'
import { gatewayKinds, nginxBinary, startGateway } from './helpers/gateways.ts'

/** A token-service stand-in that answers with its own name. */
async function named(name: string): Promise<{ server: Server; hostPort: string }> {
  const server = createServer((_req, res) => res.end(name))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { server, hostPort: `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }
}

t.test('a comma-separated upstream becomes one nginx server line per entry, and a bad entry is refused', async (t) => {
  const config = loadGatewayConfig({ TOKEN_SERVICE_UPSTREAM: 'ts-1:3002, ts-2:3002,ts-3:3002' })
  const conf = renderGatewayConf(config)
  const block = /upstream token_service \{([^}]*)\}/.exec(conf)?.[1] ?? ''
  t.same(
    [...block.matchAll(/server (\S+);/g)].map((m) => m[1]),
    ['ts-1:3002', 'ts-2:3002', 'ts-3:3002'],
  )
  t.throws(() => loadGatewayConfig({ TOKEN_SERVICE_UPSTREAM: 'ts-1:3002,not a host' }), /TOKEN_SERVICE_UPSTREAM must be host:port \(or several, comma-separated\)/)
})

for (const kind of gatewayKinds) {
  const skip = kind === 'nginx' && !nginxBinary() ? 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)' : false
  t.test(`the ${kind} gateway sends requests to every server of the upstream`, { skip }, async (t) => {
    const backends = await Promise.all(['a', 'b', 'c'].map(named))
    t.teardown(() => Promise.all(backends.map(({ server }) => new Promise((resolve) => server.close(resolve)))))
    const one = backends[0]!.hostPort
    const gateway = await startGateway(kind, { identity: one, 'token-service': backends.map((b) => b.hostPort).join(','), 'todo-api': one })
    t.teardown(() => gateway.stop())
    const seen = new Map<string, number>()
    for (let i = 0; i < 30; i++) {
      const body = await (await fetch(`${gateway.url}/.well-known/jwks.json`)).text()
      seen.set(body, (seen.get(body) ?? 0) + 1)
    }
    t.same([...seen.keys()].sort(), ['a', 'b', 'c'], `each server answered (${JSON.stringify(Object.fromEntries(seen))})`)
  })
}

for (const kind of gatewayKinds) {
  const skip = kind === 'nginx' && !nginxBinary() ? 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)' : false
  t.test(`the ${kind} gateway closes an idle upstream connection itself, well within SHUTDOWN_DRAIN's default 5 s`, { skip }, async (t) => {
    const backend = await named('a')
    t.teardown(() => new Promise((resolve) => backend.server.close(resolve)))
    // Who closed each upstream connection, and when: the gateway (the socket ends from its side) or us.
    const closedByPeer: number[] = []
    let peerClosed: () => void = () => {}
    const closed = new Promise<void>((resolve) => (peerClosed = resolve))
    backend.server.on('connection', (socket) => {
      const opened = Date.now()
      socket.on('end', () => {
        closedByPeer.push(Date.now() - opened)
        peerClosed()
      })
    })
    const gateway = await startGateway(kind, { identity: backend.hostPort, 'token-service': backend.hostPort, 'todo-api': backend.hostPort })
    t.teardown(() => gateway.stop())
    t.equal((await fetch(`${gateway.url}/.well-known/jwks.json`)).status, 200)
    const connections = await new Promise<number>((resolve) => backend.server.getConnections((_e, n) => resolve(n)))
    t.equal(connections, 1, 'the gateway keeps the upstream connection open after the response')
    // Waits for the gateway's close, at most 6 s (past any drain it must beat), then judges when it came.
    let deadline: NodeJS.Timeout | undefined
    await Promise.race([closed, new Promise((resolve) => (deadline = setTimeout(resolve, 6_000)))])
    clearTimeout(deadline)
    t.equal(closedByPeer.length, 1, 'the gateway closed it')
    t.ok(closedByPeer[0]! >= 2_500 && closedByPeer[0]! < 5_000, `after about 3 s idle, before a 5 s drain ends (${closedByPeer[0]} ms)`)
  })
}

// An instance's port closing while connections the kernel already completed wait to be accepted
// (a busy event loop, a drain ending under load): Linux resets them. nginx has connected and sent
// the request by then, so without a retry a POST /oauth/token gets 502 (the rolling-restart test
// saw it on CI). The token endpoint's operations are safe to repeat within REFRESH_REUSE_GRACE,
// so nginx retries them on the next server (default.conf.template, location /oauth/).
t.test('nginx retries a token request whose instance reset the connection before answering', { skip: nginxBinary() ? false : 'nginx is not installed here' }, async (t) => {
  // The instance that goes away: in a process of its own, so its event loop can be blocked. It stays
  // blocked until the kernel holds a connection for it that it has not accepted (its listening
  // socket's accept queue, rx_queue in /proc/net/tcp; at most 5 s), then 200 ms more for nginx to
  // send the request on it, and closes its port: a fixed block raced the requests on a loaded machine.
  const script = `
    const { readFileSync } = require('node:fs')
    const server = require('node:http').createServer((req, res) => res.end('A'))
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
    const local = () => '0100007F:' + server.address().port.toString(16).toUpperCase().padStart(4, '0')
    const queued = () => {
      for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\\n')) {
        const f = line.trim().split(/\\s+/)
        if (f[1] === local() && f[3] === '0A') return Number.parseInt(f[4].split(':')[1], 16)
      }
      return 0
    }
    process.stdin.once('data', () => {
      process.stdout.write('blocked\\n')
      const until = Date.now() + 5000
      while (Date.now() < until && queued() === 0) {}
      const sent = Date.now() + 200
      while (Date.now() < sent) {}
      server.close()
      setTimeout(() => process.exit(0), 200)
    })`
  const going = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => going.kill())
  const [line] = (await once(going.stdout!, 'data')) as [Buffer]
  const goingPort = Number(line.toString().trim())
  const staying = await named('B')
  t.teardown(() => new Promise((resolve) => staying.server.close(resolve)))
  const gateway = await startGateway('nginx', { identity: staying.hostPort, 'token-service': `127.0.0.1:${goingPort},${staying.hostPort}`, 'todo-api': staying.hostPort })
  t.teardown(() => gateway.stop())
  // Its stdout is a pipe, written synchronously: "blocked" arrives once its loop is busy.
  const blocked = once(going.stdout!, 'data')
  going.stdin!.write('block\n')
  await blocked
  // While it is blocked, nginx's connects to it complete in the kernel and the requests are sent.
  const replies = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const response = await fetch(`${gateway.url}/oauth/token`, { method: 'POST', body: 'grant_type=refresh_token', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      return `${response.status} ${await response.text()}`
    }),
  )
  t.same(
    replies,
    replies.map(() => '200 B'),
    'every request answered by the instance that stayed',
  )
  // nginx's error log reaches us through two pipes (nginx, then its wrapper process): under load a
  // line can arrive after the answers it came before. Wait for it, at most 5 s.
  const resets = () => gateway.lines.filter((l) => /reset by peer|prematurely closed/.test(l))
  for (const until = Date.now() + 5000; resets().length === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 25))
  const upstreamLines = gateway.lines.filter((l) => l.includes('upstream')).slice(-6)
  t.ok(resets().length > 0, `the going instance did reset connections nginx had sent requests on (${resets().length} in nginx's log; its last upstream lines: ${JSON.stringify(upstreamLines)})`)
})
