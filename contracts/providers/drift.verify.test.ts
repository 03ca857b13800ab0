// Proof that the contracts bite: the real token-service, behind a proxy that
// changes one field of its answers, must fail verification against the
// committed pacts, and the failure must say which interaction and which field.
// Each verification runs in a child process (drift/verify-token-service.child.ts)
// whose stdout is dropped: pact's native report quotes the actual answers,
// tokens included, and this test fails them on purpose on every run.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import t from 'tap'
import { Participant } from '../support/consumer-pact.ts'
import { driftHeader, driftJson, startDriftingProxy, type Drift } from '../support/drifting-proxy.ts'
import { startIdentityProvider, startTokenServiceProvider } from '../support/provider-stack.ts'
import type { ChildResult } from './drift/verify-token-service.child.ts'

const childEntry = resolve(import.meta.dirname, 'drift/verify-token-service.child.ts')

async function verifyInChild(consumer: Participant, providerBaseUrl: string): Promise<ChildResult> {
  const child = fork(childEntry, {
    // No NODE_V8_COVERAGE: writing the coverage of everything pact loads costs seconds and measures nothing of ours.
    env: { ...process.env, NODE_V8_COVERAGE: undefined, PACT_CONSUMER: consumer, PROVIDER_BASE_URL: providerBaseUrl, IDENTITY_URL: identity.url, TOKEN_SERVICE_URL: tokenService.url },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)))
  const exited = once(child, 'exit')
  const received = once(child, 'message').then(([message]) => message as ChildResult)
  const result = await Promise.race([received, exited.then(() => undefined)])
  await exited
  return result ?? { ok: false, message: `the verification process ended without a result:\n${stderr}` }
}

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

for (const drift of cases) {
  t.test(`verification fails when ${drift.name}`, async (t) => {
    const proxy = await startDriftingProxy(tokenService.url, drift.drift)
    t.teardown(() => proxy.close())
    const outcome = await verifyInChild(drift.consumer, proxy.url)
    if (outcome.ok || !outcome.mismatches) {
      t.fail(`verification should fail naming the mismatches, got: ${outcome.ok ? 'success' : outcome.message}`)
      return
    }
    t.comment(outcome.message ?? '')
    const failed = outcome.mismatches.map((m) => m.interaction.replace(/^.* - /, '')).sort()
    t.same(failed, [...drift.failing].sort(), 'exactly the interactions that read the changed field fail')
    for (const pattern of drift.report) t.match(outcome.message, pattern, `the report names the field: ${pattern}`)
  })
}
