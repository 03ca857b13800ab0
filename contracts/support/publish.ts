import type { Test } from 'tap'
import type { ConsumerPact } from './consumer-pact.ts'

/**
 * Ends a consumer test file: once every interaction above has passed, the
 * generated pact goes to contracts/pacts/ (or, in CI, must equal the committed
 * one). Call it after the interactions' subtests are declared.
 */
export function publishPactWhenPassing(t: Test, consumerPact: ConsumerPact): void {
  t.teardown(() => consumerPact.cleanup())
  t.test('the pact file in contracts/pacts holds exactly these interactions', async (st) => {
    if (!t.passing()) {
      st.fail('the pact file was not written because an interaction above failed')
      return
    }
    const { file, outcome } = consumerPact.publish()
    if (outcome === 'stale') st.fail(`${file} differs from what these consumer tests generate: run "pnpm test:contracts:consumers" locally and commit the file`)
    else st.pass(`${file}: ${outcome}`)
  })
}
