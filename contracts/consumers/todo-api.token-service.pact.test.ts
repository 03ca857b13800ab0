// Consumer: todo-api. Provider: token-service.
// What todo-api (and any resource server built on @todo-auth/token-verifier)
// relies on: the JWKS document, the RFC 8414 metadata, and the access token's
// header and claims. The token is opaque to HTTP matching, so its decoded
// header and claims are stated as a message; token-service's verification
// produces that message from a token it really issued.
import t from 'tap'
import { MatchersV3 } from '@pact-foundation/pact'
import { Compile } from 'typebox/compile'
import { AccessTokenClaims, AccessTokenHeader, AuthorizationServerMetadata, Jwks, TodoScope } from '@todo-auth/contracts'
import { createRemoteKeySet } from '@todo-auth/token-verifier'
import { createConsumerPact, Participant } from '../support/consumer-pact.ts'
import { exampleAccessTokenKey } from '../support/example-keys.ts'
import { base64url, jsonContentType } from '../support/pact-dsl.ts'
import { MessageDescription, ProviderState } from '../support/provider-states.ts'
import { publishPactWhenPassing } from '../support/publish.ts'
import { signExample } from '../support/token-sign.ts'
import { exampleAccessTokenClaims, exampleAccessTokenHeader, exampleNowMs, todoApiAudience, tokenIssuer } from './examples.ts'
import { loadConfig, startTodoApi } from './todo-api/todo-api-under-test.ts'

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

const exampleKeySetFetch: typeof fetch = async () =>
  new Response(JSON.stringify({ keys: [exampleJwk] }), { headers: { 'content-type': 'application/json' } })

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
      const { app } = await startTodoApi(t, { env: { TOKEN_SERVICE_JWKS_URL: jwksUrl }, now: () => exampleNowMs })
      const token = await signExample(exampleAccessTokenKey, exampleAccessTokenHeader, exampleAccessTokenClaims)
      const res = await app.inject({ url: '/todos', headers: { authorization: `Bearer ${token}` } })
      t.equal(res.statusCode, 200, 'todo-api verified the token with the key from the JWKS')
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
      const config = loadConfig({})
      t.equal(config.token.issuer, metadata.issuer, 'TOKEN_ISSUER is the metadata issuer')
      t.equal(new URL(config.token.jwksUrl).pathname, new URL(metadata.jwks_uri).pathname, 'TOKEN_SERVICE_JWKS_URL has the path of jwks_uri')
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
      const keySet = createRemoteKeySet({ url: 'http://token-service.invalid/.well-known/jwks.json', algorithms: ['ES256'], fetch: exampleKeySetFetch })
      const { app } = await startTodoApi(t, { now: () => (claims.iat + 60) * 1000, keySet })
      const authorization = `Bearer ${await signExample(exampleAccessTokenKey, header, claims)}`
      const created = await app.inject({ method: 'POST', url: '/todos', headers: { authorization }, payload: { title: 'contract' } })
      t.equal(created.statusCode, 201, 'todos:write lets the caller create')
      const listed = await app.inject({ url: '/todos', headers: { authorization } })
      t.equal(listed.statusCode, 200, 'todos:read lets the caller list')
      t.same(
        listed.json().map((todo: { title: string }) => todo.title),
        ['contract'],
        'the todo belongs to the sub of the token',
      )
    })
})

publishPactWhenPassing(t, consumerPact)
