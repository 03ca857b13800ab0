// Proof that the contracts bite: the real token-service, behind a proxy that
// changes one field of its answers, must fail verification against the
// committed pacts, and the failure must say which interaction and which field.
// Provider states are still set up on the real services; only the answers the
// verifier checks drift.
import t from 'tap'
import { Participant } from '../support/participants.ts'
import { driftHeader, driftJson, startDriftingProxy, type Drift } from '../support/drifting-proxy.ts'
import { startIdentityProvider, startTokenServiceProvider } from '../support/provider-stack.ts'
import { verifyAllInChild } from '../support/verify-in-child.ts'

const identity = await startIdentityProvider(t)
const tokenService = await startTokenServiceProvider(t, identity)

interface DriftCase {
  name: string
  consumer: Participant
  drift: Drift
  /** The interactions that must fail, and only those. */
  failing: string[]
  /** What the report must name: the field and what was expected of it. */
  report: RegExp[]
}

const cases: DriftCase[] = [
  {
    name: 'the JWKS drops kid from its keys',
    consumer: Participant.todoApi,
    drift: driftJson('GET', '/.well-known/jwks.json', (body) => {
      for (const key of body.keys as Array<Record<string, unknown>>) delete key.kid
    }),
    failing: ['a request for the published signing keys'],
    report: [/\$\.keys\[0\]: Actual map is missing the following keys: kid/],
  },
  {
    name: 'the token response renames scope to scopes',
    consumer: Participant.web,
    drift: driftJson('POST', '/oauth/token', (body) => {
      body.scopes = body.scope
      delete body.scope
    }),
    failing: ['a refresh from the web client with its refresh cookie', 'a token exchange from the web client'],
    report: [/\$: Actual map is missing the following keys: scope/],
  },
  {
    name: 'the refresh cookie is sent with SameSite=Lax',
    consumer: Participant.web,
    drift: driftHeader('POST', '/oauth/token', 'set-cookie', (cookie) => cookie.replace(/SameSite=Strict/i, 'SameSite=Lax')),
    failing: ['a refresh from the web client with its refresh cookie', 'a token exchange from the web client'],
    report: [/Set-Cookie: .*SameSite=Lax.* to match '.*samesite=strict/],
  },
]

// One proxy per drift, all verified in one child process (loading pact once).
const proxies = await Promise.all(cases.map((drift) => startDriftingProxy(tokenService.url, drift.drift)))
t.teardown(() => Promise.all(proxies.map((proxy) => proxy.close())))
const outcomes = await verifyAllInChild(
  cases.map((drift, i) => ({
    provider: Participant.tokenService,
    consumers: [drift.consumer],
    providerBaseUrl: proxies[i]!.url,
    urls: { identityUrl: identity.url, tokenServiceUrl: tokenService.url },
  })),
)

cases.forEach((drift, i) => {
  t.test(`verification fails when ${drift.name}`, async (t) => {
    const outcome = outcomes[i]!
    if (outcome.ok || outcome.mismatches.length === 0) {
      t.fail(`verification should fail naming the mismatches, got: ${outcome.ok ? 'success' : outcome.message}`)
      return
    }
    t.comment(outcome.message)
    const failed = outcome.mismatches.map((m) => m.interaction.replace(/^.* - /, '')).sort()
    t.same(failed, [...drift.failing].sort(), 'exactly the interactions that read the changed field fail')
    for (const pattern of drift.report) t.match(outcome.message, pattern, `the report names the field: ${pattern}`)
  })
})
