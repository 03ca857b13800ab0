// nginx's access log (the gateway's one log line per request) carries no query
// string, so a token sent in a URL never reaches it (the services redact theirs:
// test/no-secrets-in-logs.test.ts).
import { createServer } from 'node:http'
import t from 'tap'
import { nginxBinary, startGateway } from './helpers/gateways.ts'

const skip = nginxBinary() ? false : 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)'

t.test('the nginx access log has each request, with its path and without its query string', { skip }, async (t) => {
  const upstream = createServer((_req, res) => res.end('{}'))
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => upstream.close(resolve)))
  const address = upstream.address()
  const hostPort = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const gateway = await startGateway('nginx', { identity: hostPort, 'token-service': hostPort, 'todo-api': hostPort })
  t.teardown(() => gateway.stop())

  const secrets = ['rt-secret-in-query-1', 'at-secret-in-query-2', 'code-secret-in-query-3']
  const paths = [`/oauth/token?refresh_token=${secrets[0]}`, `/todos?access_token=${secrets[1]}&limit=5`, `/no/such/path?code=${secrets[2]}`]
  for (const path of paths) await (await fetch(`${gateway.url}${path}`, { headers: { 'x-request-id': 'access-log-1' } })).arrayBuffer()

  const logged = () => gateway.lines.filter((line) => line.includes('access-log-1'))
  for (let i = 0; i < 50 && logged().length < paths.length; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(logged().length, paths.length, 'one access-log line per request, with its request id')
  for (const path of ['/oauth/token', '/todos', '/no/such/path'])
    t.ok(
      logged().some((line) => line.includes(`"GET ${path} HTTP/1.1"`)),
      `${path} is logged by its path`,
    )
  for (const secret of secrets)
    t.notOk(
      gateway.lines.some((line) => line.includes(secret)),
      'no query value in any gateway line',
    )
  t.notOk(
    gateway.lines.some((line) => line.includes('?')),
    'no query string at all',
  )
})
