// gracefulShutdown on a real node:http server: not ready at once, still serving (Connection: close)
// during the drain, in-flight requests complete, a closing listener answers the service's 503.
import { createServer, request as httpRequest, type Server } from 'node:http'
import { once } from 'node:events'
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { gracefulShutdown } from '../src/index.ts'

const silent = { info: () => {}, error: () => {} }

async function serve(t: Test, handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }
}

/** One request on a fresh connection; resolves to status, headers and body. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const unavailable = (phase: string, path: string) => ({ contentType: 'application/json', body: JSON.stringify({ code: 'SHUTTING_DOWN', phase, path }) })

function setup(server: Server, drainMs: number) {
  let closed = false
  const exits: number[] = []
  const shutdown = gracefulShutdown({
    servers: [server],
    drainMs,
    signals: [],
    log: silent,
    unavailable,
    exit: (code) => exits.push(code),
    close: async () => {
      closed = true
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
  return { shutdown, exits, isClosed: () => closed }
}

t.test('during the drain /readyz is 503 with Retry-After at once, other requests are served with Connection: close', async (t) => {
  const { server, url } = await serve(t, (req, res) => res.end(req.url === '/readyz' ? 'ready' : 'served'))
  const { shutdown, exits, isClosed } = setup(server, 60_000)
  t.equal((await get(`${url}/readyz`)).status, 200, 'ready before the signal')
  const done = shutdown.shutdown('test')
  t.equal(shutdown.phase, 'draining')
  const ready = await get(`${url}/readyz?verbose`)
  t.equal(ready.status, 503, 'not ready from the first signal on')
  t.equal(ready.headers['retry-after'], '1')
  t.same(JSON.parse(ready.body), { code: 'SHUTTING_DOWN', phase: 'draining', path: '/readyz' }, 'in the service format')
  const served = await get(`${url}/todos`, { connection: 'keep-alive' })
  t.equal(served.status, 200, 'still served during the drain')
  t.equal(served.body, 'served')
  t.equal(served.headers.connection, 'close', 'keep-alive ends politely after the response')
  t.equal(isClosed(), false, 'the port is still open')
  void shutdown.shutdown('second signal')
  await done
  t.equal(isClosed(), true, 'a second signal skips the rest of the drain')
  t.same(exits, [0])
})

t.test('an in-flight request completes across the close; a request reaching a closing listener gets the 503', async (t) => {
  let release: (() => void) | undefined
  const { server, url } = await serve(t, (req, res) => {
    if (req.url === '/slow') release = () => res.end('slow done')
    else res.end('fast')
  })
  const { shutdown, exits } = setup(server, 50)
  const slow = get(`${url}/slow`)
  while (!release) await new Promise((resolve) => setImmediate(resolve))
  const done = shutdown.shutdown('test')
  await new Promise<void>((resolve) => {
    const check = () => (shutdown.phase === 'closing' ? resolve() : setTimeout(check, 5))
    check()
  })
  // The listener is closed; a request on a connection it still holds would be answered by the wrapper.
  const listener = server.listeners('request')[0] as (req: unknown, res: unknown) => void
  const answered: { status?: number; headers?: Record<string, unknown>; body?: string } = {}
  listener(
    { url: '/oauth/token' },
    {
      writeHead: (status: number, headers: Record<string, unknown>) => Object.assign(answered, { status, headers }),
      end: (body: string) => Object.assign(answered, { body }),
    },
  )
  t.equal(answered.status, 503)
  t.equal(answered.headers?.['retry-after'], '1')
  t.equal(answered.headers?.connection, 'close')
  t.same(JSON.parse(answered.body!), { code: 'SHUTTING_DOWN', phase: 'closing', path: '/oauth/token' })
  await t.rejects(get(`${url}/fast`), { code: 'ECONNREFUSED' }, 'new connections are refused once closing')
  release!()
  const result = await slow
  t.equal(result.status, 200, 'the in-flight request completed')
  t.equal(result.body, 'slow done')
  await done
  t.same(exits, [0])
})

t.test('a close that fails exits 1', async (t) => {
  const { server } = await serve(t, (_req, res) => res.end())
  const exits: number[] = []
  const shutdown = gracefulShutdown({ servers: [server], drainMs: 0, signals: [], log: silent, unavailable, exit: (code) => exits.push(code), close: async () => Promise.reject(new Error('boom')) })
  await shutdown.shutdown('test')
  t.same(exits, [1])
})

t.test('a connection that has not sent its request yet when the port closes is not cut: its request is served', async (t) => {
  const { server, url } = await serve(t, (_req, res) => res.end('served'))
  const { shutdown, exits } = setup(server, 50)
  const { port } = new URL(url)
  // Connected (the kernel completed it) but silent, as a gateway's fresh upstream connection under load.
  const late = connect(Number(port), '127.0.0.1')
  await once(late, 'connect')
  // And a keep-alive connection resting after a response: that one is closed early.
  const resting = connect(Number(port), '127.0.0.1')
  await once(resting, 'connect')
  resting.write('GET /before HTTP/1.1\r\nHost: a\r\n\r\n')
  await once(resting, 'data')
  const restingClosed = once(resting, 'close')
  let lateCut = false
  late.once('close', () => (lateCut = true))
  const done = shutdown.shutdown('test')
  while (server.listening) await new Promise((resolve) => setTimeout(resolve, 5))
  await restingClosed
  t.pass('the resting keep-alive connection was closed')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(lateCut, false, '300 ms after the port closed, the silent connection is still open')
  let answer = ''
  late.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
  late.write('POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n')
  await once(late, 'close')
  t.match(answer, /^HTTP\/1\.1 200 /, 'its request is served')
  t.match(answer, /\r\nconnection: close\r\n/i, 'and the connection then ends')
  t.match(answer, /\r\n\r\nserved$/)
  await done
  t.same(exits, [0])
})
