// Headers and bodies through both gateways (nginx with the compose config, and the
// Node development gateway), in front of echo upstreams that report what reached
// them: forwarded headers, request ids, trace context, cookies, body limits.
import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import t from 'tap'
import { requestIdPattern } from '@todo-auth/observability'
import { loadRouteTable } from '../infra/gateway/routes.ts'
import { startEchoUpstreams, type Echo } from './helpers/echo-upstreams.ts'
import { gatewayKinds, nginxBinary, startGateway, type GatewayKind } from './helpers/gateways.ts'

const table = loadRouteTable()
const { hits, echoes } = await startEchoUpstreams(t)

function gatewayTest(kind: GatewayKind) {
  const skip = kind === 'nginx' && !nginxBinary() ? 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)' : false
  t.test(`the ${kind} gateway passes headers and bodies`, { skip }, async (t) => {
    const gateway = await startGateway(kind, echoes)
    t.teardown(() => gateway.stop())
    const base = gateway.url
    const origin = new URL(base).host

    t.test('X-Forwarded-For/-Proto/-Host are set by the gateway and forged ones are replaced', async (t) => {
      const response = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example',
          forwarded: 'for=6.6.6.6;proto=https',
          'x-real-ip': '6.6.6.6',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=refresh_token&client_id=web',
      })
      const echo = (await response.json()) as Echo
      t.equal(echo.headers['x-forwarded-for'], '127.0.0.1', 'the client address only')
      t.equal(echo.headers['x-forwarded-proto'], 'http')
      t.equal(echo.headers['x-forwarded-host'], origin, 'the Host the client used')
      t.equal(echo.headers.host, origin, 'Host is passed on')
      t.equal(echo.headers.forwarded, undefined)
      t.equal(echo.headers['x-real-ip'], undefined)
    })

    t.test('every request reaches the service with an X-Request-Id: a valid client one as it is, else a new one', async (t) => {
      const idOf = async (headers: Record<string, string>) => ((await (await fetch(`${base}/todos`, { headers })).json()) as Echo).headers['x-request-id'] as string
      t.equal(await idOf({ 'x-request-id': 'client-42.A_b' }), 'client-42.A_b', 'a valid one is kept')
      const longest = 'z'.repeat(128)
      t.equal(await idOf({ 'x-request-id': longest }), longest, '128 characters are fine')
      const generated = new Set<string>()
      for (const headers of [{}, {}, { 'x-request-id': 'z'.repeat(129) }, { 'x-request-id': 'a b' }, { 'x-request-id': 'a"b' }, { 'x-request-id': '' }] as Record<string, string>[]) {
        const id = await idOf(headers)
        t.match(id, requestIdPattern, `${JSON.stringify(headers)} → a valid id`)
        t.not(id, headers['x-request-id'], 'not the refused one')
        generated.add(id)
      }
      t.equal(generated.size, 6, 'a new id for each request')
      const page = await fetch(`${base}/`, { headers: { 'x-request-id': 'page-1' } })
      await page.arrayBuffer()
      t.equal(page.headers.get('x-request-id'), 'page-1', 'the demo page returns it')
    })

    t.test('W3C trace context passes through untouched', async (t) => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
      const echo = (await (await fetch(`${base}/oauth/token`, { method: 'POST', headers: { traceparent, tracestate: 'vendor=1' } })).json()) as Echo
      t.equal(echo.headers.traceparent, traceparent)
      t.equal(echo.headers.tracestate, 'vendor=1')
    })

    t.test('cookies and headers pass both ways', async (t) => {
      const response = await fetch(`${base}/oauth/token?cookie=1`, { method: 'POST', headers: { cookie: 'x=1; y=2', origin: 'http://localhost:8080', authorization: 'Bearer abc' } })
      const echo = (await response.json()) as Echo
      t.equal(echo.headers.cookie, 'x=1; y=2')
      t.equal(echo.headers.origin, 'http://localhost:8080')
      t.equal(echo.headers.authorization, 'Bearer abc')
      t.same(response.headers.getSetCookie(), ['a=1; Path=/; HttpOnly', 'b=2; Path=/oauth; Secure'])
    })

    t.test(`bodies up to ${table.bodyLimitBytes} bytes pass byte for byte and larger ones get 413`, async (t) => {
      const atLimit = Buffer.alloc(table.bodyLimitBytes, 'a')
      const ok = await fetch(`${base}/todos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: atLimit })
      t.equal(ok.status, 200)
      const echo = (await ok.json()) as Echo
      t.equal(echo.bodyLength, atLimit.length)
      t.equal(echo.bodySha256, createHash('sha256').update(atLimit).digest('hex'))

      const form = 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&scope=todos%3Aread+todos%3Awrite'
      const formEcho = (await (await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })).json()) as Echo
      t.equal(formEcho.bodySha256, createHash('sha256').update(form).digest('hex'), 'a form body is not re-encoded')

      const before = hits.length
      const tooLarge = await fetch(`${base}/todos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(table.bodyLimitBytes + 1, 'a') })
      await tooLarge.arrayBuffer()
      t.equal(tooLarge.status, 413)
      t.equal(hits.length, before, 'the upstream never saw it')
    })

    t.test('a chunked body is limited the same way and reaches the upstream with its length', async (t) => {
      const chunked = (size: number) =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let sent = 0; sent < size; sent += 1000) controller.enqueue(new Uint8Array(Math.min(1000, size - sent)).fill(98))
            controller.close()
          },
        })
      const small = await fetch(`${base}/todos`, { method: 'POST', body: chunked(5000), duplex: 'half' } as RequestInit)
      const echo = (await small.json()) as Echo
      t.equal(echo.bodyLength, 5000)
      t.equal(echo.headers['content-length'], '5000')

      const before = hits.length
      // node:http rather than fetch: a gateway may answer 413 before the body is fully sent and then
      // close; undici turns the write error that follows into 'fetch failed' and hides the answer.
      const big = await new Promise<number | Error>((resolve) => {
        const req = httpRequest(`${base}/todos`, { method: 'POST' }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', (error) => resolve(error))
        const chunk = Buffer.alloc(1000, 98)
        let sent = 0
        const pump = () => {
          while (sent < table.bodyLimitBytes + 1000) {
            sent += chunk.length
            if (!req.write(chunk)) {
              req.once('drain', pump)
              return
            }
          }
          req.end()
        }
        pump()
      })
      if (big instanceof Error) t.fail(`the gateway should answer 413, not drop the connection: ${big.message}`)
      else t.equal(big, 413)
      t.equal(hits.length, before, 'the upstream never saw it')
    })
  })
}

for (const kind of gatewayKinds) gatewayTest(kind)
