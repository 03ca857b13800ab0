// Consumer: todo-api. Provider: token-service.
// What todo-api (and any resource server built on @todo-auth/token-verifier)
// relies on: the JWKS document, the RFC 8414 metadata, and the access token's
// header and claims. The token is opaque to HTTP matching, so its decoded
// header and claims are stated as a message; token-service's verification
// produces that message from a token it really issued. The consumer under test
// is todo-api itself, a process started from its server.ts with the environment
// it reads in production (no test imports a service's source).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { MatchersV3 } from '@pact-foundation/pact'
import { Compile } from 'typebox/compile'
import { AccessTokenClaims, AccessTokenHeader, AuthorizationServerMetadata, Jwks, TodoScope } from '@todo-auth/contracts'
import { createConsumerPact, Participant } from '../support/consumer-pact.ts'
import { issuedNow, serveJwks } from '../support/example-issuer.ts'
import { exampleAccessTokenKey } from '../support/example-keys.ts'
import { base64url, jsonContentType } from '../support/pact-dsl.ts'
import { MessageDescription, ProviderState } from '../support/provider-states.ts'
import { publishPactWhenPassing } from '../support/publish.ts'
import { signExample } from '../support/token-sign.ts'
import { startTodoApiProcess } from '../support/provider-stack.ts'
import { exampleAccessTokenClaims, exampleAccessTokenHeader, todoApiAudience, tokenIssuer } from './examples.ts'

const { like, regex, eachLike, integer, arrayContaining } = MatchersV3
const consumerPact = createConsumerPact(Participant.todoApi, Participant.tokenService)
const { pact } = consumerPact
const exampleJwk = exampleAccessTokenKey.publicJwk

/** The access token message: what todo-api's verifier requires of every token (SPEC §5, RFC 9068). */
const accessTokenMessage = {
  header: {
    alg: 'ES256',
    kid: like(exampleAccessTokenHeader.kid),
    typ: 'at+jwt',
  },
  claims: {
    iss: tokenIssuer,
    sub: like(exampleAccessTokenClaims.sub),
    aud: todoApiAudience,
    exp: integer(exampleAccessTokenClaims.exp),
    iat: integer(exampleAccessTokenClaims.iat),
    jti: like(exampleAccessTokenClaims.jti),
    client_id: like(exampleAccessTokenClaims.client_id),
    // todo-api splits on spaces and looks for its own scope names.
    scope: regex(`^(${TodoScope.read}|${TodoScope.write})( (${TodoScope.read}|${TodoScope.write}))*$`, exampleAccessTokenClaims.scope),
    sid: like(exampleAccessTokenClaims.sid),
    email: like(exampleAccessTokenClaims.email),
    roles: eachLike('user'),
  },
}

/**
 * A default of todo-api's environment as docs/configuration.md states it (the
 * operators' reference, held to todo-api's schema by services/todo-api/test/config.test.ts).
 */
function documentedDefault(name: string): string {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  // A row of the generated table: | `NAME` | what it accepts | `default` | description |
  const value = new RegExp(`^\\| \`${name}\` \\| [^|]* \\| \`([^\`]*)\` \\|`, 'm').exec(doc)?.[1]
  if (value === undefined) throw new Error(`docs/configuration.md states no default of ${name}`)
  return value
}

t.test('todo-api fetches the JWKS and accepts a token signed with a published key', async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a request for the published signing keys')
    .withRequest('GET', '/.well-known/jwks.json', (b) => b.headers({ accept: 'application/jwk-set+json, application/json' }))
    .willRespondWith(200, (b) =>
      b
        .headers({
          'Content-Type': jsonContentType,
          // todo-api's key set honours max-age and revalidates with the ETag. Pact
          // splits a header on commas and applies the rule to every directive.
          'Cache-Control': regex('^(public|max-age=[0-9]+)$', 'public, max-age=600'),
          ETag: regex('^(W/)?"[^"]+"$', '"example-etag"'),
        })
        .jsonBody({
          keys: eachLike({
            kty: 'EC',
            crv: 'P-256',
            x: base64url(exampleJwk.x!, 43),
            y: base64url(exampleJwk.y!, 43),
            kid: like(exampleJwk.kid),
            alg: 'ES256',
            use: 'sig',
          }),
        }),
    )
    .executeTest(async (server) => {
      const jwksUrl = `${server.url}/.well-known/jwks.json`
      const document = await (await fetch(jwksUrl, { headers: { accept: 'application/jwk-set+json, application/json' } })).json()
      t.ok(Compile(Jwks).Check(document), 'the example JWKS satisfies the shared Jwks schema')
      const todoApi = await startTodoApiProcess(t, { TOKEN_SERVICE_JWKS_URL: jwksUrl })
      const token = await signExample(exampleAccessTokenKey, exampleAccessTokenHeader, issuedNow(exampleAccessTokenClaims))
      const res = await fetch(`${todoApi.url}/todos`, { headers: { authorization: `Bearer ${token}` } })
      t.equal(res.status, 200, 'todo-api verified the token with the key from the JWKS')
    })
})

t.test("todo-api's configuration agrees with the authorization server metadata", async (t) => {
  await pact
    .addInteraction()
    .uponReceiving('a request for the authorization server metadata')
    .withRequest('GET', '/.well-known/oauth-authorization-server')
    .willRespondWith(200, (b) =>
      b.headers({ 'Content-Type': jsonContentType }).jsonBody({
        issuer: tokenIssuer,
        jwks_uri: regex('^https?://[^/]+/\\.well-known/jwks\\.json$', `${tokenIssuer}/.well-known/jwks.json`),
        scopes_supported: arrayContaining(TodoScope.read, TodoScope.write),
      }),
    )
    .executeTest(async (server) => {
      const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as AuthorizationServerMetadata
      // The example holds only what todo-api relies on; the shared schema asks for more, so check the members it has.
      for (const member of ['issuer', 'jwks_uri', 'scopes_supported'] as const) {
        t.ok(Compile(AuthorizationServerMetadata.properties[member]).Check(metadata[member]), `${member} has the shared schema's type`)
      }
      // todo-api is configured (TOKEN_ISSUER, TOKEN_SERVICE_JWKS_URL) from these members; its defaults must agree.
      t.equal(documentedDefault('TOKEN_ISSUER'), metadata.issuer, 'TOKEN_ISSUER is the metadata issuer')
      const jwksPath = new URL(metadata.jwks_uri).pathname
      t.equal(new URL(documentedDefault('TOKEN_SERVICE_JWKS_URL')).pathname, jwksPath, 'TOKEN_SERVICE_JWKS_URL has the path of jwks_uri')
      // And todo-api left at its default TOKEN_ISSUER accepts a token of this issuer.
      const todoApi = await startTodoApiProcess(t, { TOKEN_SERVICE_JWKS_URL: await serveJwks(t, { keys: [exampleJwk] }, jwksPath) })
      const token = await signExample(exampleAccessTokenKey, exampleAccessTokenHeader, issuedNow({ ...exampleAccessTokenClaims, iss: metadata.issuer }))
      const res = await fetch(`${todoApi.url}/todos`, { headers: { authorization: `Bearer ${token}` } })
      t.equal(res.status, 200, 'the default TOKEN_ISSUER accepts the metadata issuer')
      for (const scope of Object.values(TodoScope)) t.ok(metadata.scopes_supported.includes(scope), `${scope} is supported`)
    })
})

t.test('todo-api serves the caller of an access token with exactly these header and claims', async (t) => {
  await pact
    .addAsynchronousInteraction()
    .given(ProviderState.accessTokenIssuedForTodoApi)
    .expectsToReceive(MessageDescription.accessTokenForTodoApi, (b) => b.withJSONContent(accessTokenMessage))
    .executeTest(async (message) => {
      const { header, claims } = message.contents.content as { header: AccessTokenHeader; claims: AccessTokenClaims }
      t.ok(Compile(AccessTokenHeader).Check(header), 'the header satisfies the shared AccessTokenHeader schema')
      t.ok(Compile(AccessTokenClaims).Check(claims), 'the claims satisfy the shared AccessTokenClaims schema')
      const todoApi = await startTodoApiProcess(t, { TOKEN_SERVICE_JWKS_URL: await serveJwks(t, { keys: [exampleJwk] }, '/.well-known/jwks.json') })
      const authorization = `Bearer ${await signExample(exampleAccessTokenKey, header, issuedNow(claims))}`
      const created = await fetch(`${todoApi.url}/todos`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'contract' }),
      })
      t.equal(created.status, 201, 'todos:write lets the caller create')
      const listed = await fetch(`${todoApi.url}/todos`, { headers: { authorization } })
      t.equal(listed.status, 200, 'todos:read lets the caller list')
      t.same(
        ((await listed.json()) as { title: string }[]).map((todo) => todo.title),
        ['contract'],
        'the todo belongs to the sub of the token',
      )
    })
})

publishPactWhenPassing(t, consumerPact)
