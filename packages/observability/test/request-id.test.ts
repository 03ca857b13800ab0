import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { currentRequestId, requestIdPattern, requestIdPlugin, requestIdServerOptions, withRequestId } from '../src/index.ts'

/** An upstream that records the headers of every request it gets. */
async function startUpstream(t: Test) {
  const seen: IncomingHttpHeaders[] = []
  const server = createServer((req, res) => {
    seen.push(req.headers)
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  t.teardown(() => new Promise<void>((done) => server.close(() => done())))
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks` }
}

async function buildApp(t: Test, upstreamUrl = 'http://127.0.0.1:9/') {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
      callback()
    },
  })
  const app = Fastify({ ...requestIdServerOptions(), logger: { level: 'info', stream } })
  await app.register(requestIdPlugin)
  const upstreamFetch = withRequestId()
  app.get('/ok', async (request) => {
    request.log.info('handling')
    return { id: currentRequestId() }
  })
  app.get('/fail', async () => {
    throw new Error('boom')
  })
  app.get('/upstream', async () => {
    await new Promise((resolve) => setImmediate(resolve))
    const response = await upstreamFetch(upstreamUrl, { headers: { accept: 'application/json' } })
    await response.arrayBuffer()
    return { ok: true }
  })
  t.teardown(() => app.close())
  return { app, lines }
}

t.test('a valid X-Request-Id is kept, returned and logged on every line of the request', async (t) => {
  const { app, lines } = await buildApp(t)
  const res = await app.inject({ url: '/ok', headers: { 'x-request-id': 'client-1.A_b' } })
  t.equal(res.headers['x-request-id'], 'client-1.A_b')
  t.same(res.json(), { id: 'client-1.A_b' }, 'the current id inside the handler')
  const own = lines.filter((line) => line.request_id === 'client-1.A_b')
  t.ok(own.length >= 3, 'incoming request, handler line and completed request all carry it')
  t.ok(
    own.some((line) => line.msg === 'handling'),
    "the handler's own line",
  )
  t.notOk(
    lines.some((line) => 'reqId' in line),
    'no line uses Fastify’s default label',
  )
})

t.test('a missing or invalid X-Request-Id is replaced by a new one', async (t) => {
  const { app, lines } = await buildApp(t)
  const invalid = ['', 'a'.repeat(129), 'has space', 'quote"', 'new\nline', 'ünïcode', 'a/b', '<script>']
  const ids = new Set<string>()
  for (const value of [undefined, ...invalid]) {
    const res = await app.inject({ url: '/ok', headers: value === undefined ? {} : { 'x-request-id': value } })
    const id = res.headers['x-request-id'] as string
    t.match(id, requestIdPattern, `${JSON.stringify(value)} → a valid id`)
    t.not(id, value, `${JSON.stringify(value)} is not used`)
    ids.add(id)
  }
  t.equal(ids.size, invalid.length + 1, 'every generated id is new')
  t.notOk(
    lines.some((line) => JSON.stringify(line).includes('<script>')),
    'the refused value reaches no log line',
  )
  const longest = 'a'.repeat(128)
  t.equal((await app.inject({ url: '/ok', headers: { 'x-request-id': longest } })).headers['x-request-id'], longest, '128 characters are fine')
})

t.test('errors and 404s return the id too', async (t) => {
  const { app } = await buildApp(t)
  const failed = await app.inject({ url: '/fail', headers: { 'x-request-id': 'err-1' } })
  t.equal(failed.statusCode, 500)
  t.equal(failed.headers['x-request-id'], 'err-1')
  const missing = await app.inject({ url: '/nope', headers: { 'x-request-id': 'nf-1' } })
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['x-request-id'], 'nf-1')
})

t.test('a fetch made while handling a request carries its id upstream; one made outside a request carries none', async (t) => {
  const upstream = await startUpstream(t)
  const { app } = await buildApp(t, upstream.url)
  const res = await app.inject({ url: '/upstream', headers: { 'x-request-id': 'up-7' } })
  t.equal(res.statusCode, 200)
  t.equal(upstream.seen.at(-1)?.['x-request-id'], 'up-7')
  t.equal(upstream.seen.at(-1)?.accept, 'application/json', 'the caller’s own headers are kept')
  await (await withRequestId()(upstream.url)).arrayBuffer()
  t.equal(upstream.seen.at(-1)?.['x-request-id'], undefined)
})
