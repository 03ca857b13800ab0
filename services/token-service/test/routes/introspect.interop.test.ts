import { randomBytes } from 'node:crypto'
import t from 'tap'
import * as client from 'openid-client'
import { exchange, freePort, spawnTokenService, startIdentity } from '@todo-auth/testkit'

// Interop: openid-client v6 (a certified RP library) discovers the real token-service through
// RFC 8414 metadata and introspects with client_secret_basic (RFC 7662).
const identity = await startIdentity()
t.teardown(() => identity.close())
const secret = randomBytes(32).toString('base64url')
const port = await freePort()
const issuer = `http://127.0.0.1:${port}`
const tokenService = await spawnTokenService({ identity, env: { PORT: String(port), ISSUER: issuer, INTROSPECTION_CLIENTS: `todo-api:${secret}` } })
t.teardown(() => tokenService.stop())

const discover = (clientSecret: string) => client.discovery(new URL(issuer), 'todo-api', undefined, client.ClientSecretBasic(clientSecret), { algorithm: 'oauth2', execute: [client.allowInsecureRequests] })

t.test('openid-client discovers the introspection endpoint and introspects access and refresh tokens', async (t) => {
  const config = await discover(secret)
  const metadata = config.serverMetadata()
  t.equal(metadata.introspection_endpoint, `${issuer}/oauth/introspect`)
  t.same(metadata.introspection_endpoint_auth_methods_supported, ['client_secret_basic'])

  const { jwt } = await identity.signUp()
  const tokens = await exchange(tokenService.url, jwt)
  t.equal(tokens.status, 200)
  const access = await client.tokenIntrospection(config, tokens.body.access_token as string)
  t.match(access, { active: true, token_type: 'Bearer', client_id: 'cli', aud: 'todo-api', iss: issuer })
  const refresh = await client.tokenIntrospection(config, tokens.body.refresh_token as string, { token_type_hint: 'refresh_token' })
  t.match(refresh, { active: true, client_id: 'cli', sid: access.sid })
  t.same(await client.tokenIntrospection(config, 'garbage'), { active: false })
})

t.test('openid-client with a wrong secret gets invalid_client', async (t) => {
  const config = await discover(`${secret}-wrong`)
  const error = await client.tokenIntrospection(config, 'anything').then(
    () => undefined,
    (e: unknown) => e as { name: string; status: number; cause: Array<{ scheme: string }> },
  )
  t.equal(error?.name, 'WWWAuthenticateChallengeError', 'openid-client sees the Basic challenge of invalid_client')
  t.equal(error?.status, 401)
  t.equal(error?.cause[0]?.scheme, 'basic')
})
