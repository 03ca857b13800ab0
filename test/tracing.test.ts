// OpenTelemetry across the services: with the standard OTEL_* variables set, token-service,
// todo-api and identity export spans over OTLP/HTTP (JSON here, so the test can read them) to a
// receiver this test runs. A client's W3C traceparent passes the gateway untouched, and the sign-in,
// the todo request and the JWKS fetch todo-api makes to token-service all land in that one trace.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import t, { type Test } from 'tap'
import { admin, spawnService, spawnTokenService, startIdentity, within } from '@todo-auth/testkit'
import { hostPort, nginxBinary, repoRoot, startGateway } from './helpers/gateways.ts'

interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
}
interface Received {
  service: string
  span: Span
}

/** A minimal OTLP/HTTP receiver: POST /v1/traces with an ExportTraceServiceRequest in JSON. */
async function startReceiver(t: Test) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end()
        return
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Span[] }[] }[]
      }
      for (const resourceSpans of body.resourceSpans) {
        const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?'
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) received.push({ service, span })
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  t.teardown(() => new Promise<void>((done) => server.close(() => done())))
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

t.test('one trace runs from the client through the gateway, token-service and todo-api', async (t) => {
  const receiver = await startReceiver(t)
  const otel = (service: string) => ({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: service,
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  })
  const identity = await startIdentity({ embedded: true, env: otel('identity') })
  t.teardown(() => identity.close())
  const tokenService = await spawnTokenService({ identity, admin: true, env: otel('token-service') })
  t.teardown(() => tokenService.stop())
  const todoApi = await spawnService({
    entry: resolve(repoRoot, 'services/todo-api/src/server.ts'),
    env: { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: undefined, PGLITE_DATA_DIR: undefined, TOKEN_SERVICE_JWKS_URL: tokenService.jwksUrl, LOG_LEVEL: 'warn', ...otel('todo-api') },
  })
  t.teardown(() => todoApi.stop())
  const gateway = await startGateway(nginxBinary() ? 'nginx' : 'node', { identity: hostPort(identity.url), 'token-service': hostPort(tokenService.url), 'todo-api': hostPort(todoApi.url) })
  t.teardown(() => gateway.stop())

  // Two forced rotations: the signing key is then one todo-api's warm-up fetch did not see, so the
  // todo request below makes todo-api fetch token-service's JWKS again, inside the trace.
  for (let i = 0; i < 2; i++) t.equal((await admin(tokenService.adminUrl!, tokenService.adminToken!, 'POST', '/admin/keys/rotate?force=true')).status, 200, 'rotated')
  const { jwt } = await identity.signUp()
  const traceId = randomBytes(16).toString('hex')
  const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`
  const exchange = await fetch(`${gateway.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', traceparent },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: jwt, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }),
  })
  t.equal(exchange.status, 200, 'sign-in')
  const { access_token } = (await exchange.json()) as { access_token: string }
  const todos = await fetch(`${gateway.url}/todos`, { headers: { authorization: `Bearer ${access_token}`, traceparent } })
  t.equal(todos.status, 200, 'the todo request')
  await todos.arrayBuffer()

  const inTrace = () => receiver.received.filter((r) => r.span.traceId === traceId)
  const has = (service: string, kind: number, name?: RegExp) => inTrace().some((r) => r.service === service && r.span.kind === kind && (!name || name.test(r.span.name)))
  const SERVER = 2
  const CLIENT = 3
  // Spans are batched (OTEL_BSP_SCHEDULE_DELAY=100 ms): wait for the ones this trace must hold.
  await within(15_000, async () => has('token-service', SERVER, /POST/) && has('todo-api', SERVER) && has('todo-api', CLIENT) && has('token-service', SERVER, /GET/))
  t.ok(has('token-service', SERVER, /POST/), 'token-service: the sign-in (POST /oauth/token), in the client’s trace')
  t.ok(has('todo-api', SERVER, /GET/), 'todo-api: GET /todos, in the same trace')
  const fetchSpan = inTrace().find((r) => r.service === 'todo-api' && r.span.kind === CLIENT)
  t.ok(fetchSpan, "todo-api: its fetch of token-service's JWKS")
  const jwksServed = inTrace().find((r) => r.service === 'token-service' && r.span.kind === SERVER && r.span.parentSpanId === fetchSpan?.span.spanId)
  t.ok(jwksServed, 'token-service: serving that JWKS, a child of the fetch (traceparent propagated)')
  t.notOk(
    receiver.received.some((r) => r.service === 'todo-api' && r.span.name.includes('healthz')),
    'no spans for probes',
  )
})

t.test('without OTEL_TRACES_EXPORTER nothing is exported and the SDK is not loaded', async (t) => {
  const receiver = await startReceiver(t)
  const tokenService = await spawnTokenService({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_EXPORTER: undefined, NODE_DEBUG: 'module' } })
  t.teardown(() => tokenService.stop())
  t.equal((await fetch(`${tokenService.url}/.well-known/jwks.json`)).status, 200)
  t.equal(await tokenService.stop(), 0)
  t.same(receiver.received, [], 'no span reached the receiver')
  // Only the SDK counts: @opentelemetry/api is a no-op facade that prom-client loads when installed (exemplars).
  t.notOk(
    tokenService.lines.some((line) => /@opentelemetry\/(?:sdk-|instrumentation|exporter|resources|core)/.test(line)),
    'no OpenTelemetry SDK, instrumentation or exporter module was loaded (NODE_DEBUG=module)',
  )
})
