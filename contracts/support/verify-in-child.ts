import { fork } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import type { Test } from 'tap'
import type { ProviderUrls } from '../providers/states/provider-urls.ts'
import type { Participant } from './participants.ts'
import type { VerificationMismatch } from './verify-provider.ts'

export interface VerificationOutcome {
  ok: boolean
  /** Readable report of what failed (tokens redacted); empty when ok. */
  message: string
  mismatches: VerificationMismatch[]
}

export interface VerificationRequest {
  provider: Participant
  consumers: Participant[]
  /** Where the verifier sends HTTP interactions: the provider, or a proxy in front of it. */
  providerBaseUrl: string
  /** Where the provider states are set up (always the real services). */
  urls: ProviderUrls
}

const childEntry = resolve(import.meta.dirname, '../providers/run/verify.child.ts')

/**
 * Verifies providers against the committed pacts in one child process
 * (providers/run/verify.child.ts), one request after the other, and returns
 * an outcome per request. The child's stdout, pact's own report, quotes actual
 * tokens and is dropped; set PACT_REPORT=1 to see it while debugging a failure
 * (it then shows the test users' tokens).
 */
export async function verifyAllInChild(requests: readonly VerificationRequest[]): Promise<VerificationOutcome[]> {
  const child = fork(childEntry, {
    env: {
      ...process.env,
      PACT_VERIFICATIONS: JSON.stringify(requests),
      // Writing the coverage of everything pact loads costs seconds and measures nothing of ours.
      NODE_V8_COVERAGE: undefined,
    },
    stdio: ['ignore', process.env.PACT_REPORT === '1' ? 'inherit' : 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000)
  })
  const exited = once(child, 'exit')
  const received = once(child, 'message').then(([message]) => message as VerificationOutcome[])
  const outcomes = await Promise.race([received, exited.then(() => undefined)])
  await exited
  return outcomes ?? requests.map(() => ({ ok: false, message: `the verification process ended without a result:\n${stderr}`, mismatches: [] }))
}

/** {@link verifyAllInChild} for one request. */
export async function verifyInChild(request: VerificationRequest): Promise<VerificationOutcome> {
  const [outcome] = await verifyAllInChild([request])
  return outcome!
}

/** Passes when every interaction held; otherwise fails with the readable report. */
export function assertHonoured(t: Test, outcome: VerificationOutcome, what: string): void {
  if (outcome.ok) t.pass(what)
  else t.fail(`${what}\n${outcome.message}`)
}
