import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { PactV4 } from '@pact-foundation/pact'
import { pactFilePath, pactsDir, type Participant } from './participants.ts'

export { Participant } from './participants.ts'

export interface ConsumerPact {
  pact: PactV4
  /**
   * Moves the pact the interactions produced into contracts/pacts/. Outside CI
   * it replaces the committed file (atomically: a provider verification running
   * at the same time reads either the old or the new file, never half of one).
   * In CI (env CI set) it never writes: a generated pact that differs from the
   * committed one is a failure, because the providers verified the committed one.
   * Returns what happened, for the test to assert.
   */
  publish(): { file: string; outcome: 'unchanged' | 'written' | 'stale' }
  /** Removes the scratch directory. */
  cleanup(): void
}

/**
 * A V4 pact whose interactions are first written to a scratch directory, so
 * the committed file changes only once every interaction of the consumer
 * passed (a failing consumer test never shrinks the committed contract).
 */
export function createConsumerPact(consumer: Participant, provider: Participant): ConsumerPact {
  const scratch = mkdtempSync(join(tmpdir(), `pact-${consumer}-${provider}-`))
  const pact = new PactV4({ consumer, provider, dir: scratch, logLevel: 'error' })
  const target = pactFilePath(consumer, provider)
  return {
    pact,
    publish() {
      const generated = readFileSync(join(scratch, `${consumer}-${provider}.json`), 'utf8')
      const committed = existsSync(target) ? readFileSync(target, 'utf8') : undefined
      const file = relative(resolve(pactsDir, '../..'), target)
      if (committed === generated) return { file, outcome: 'unchanged' }
      if (process.env.CI) return { file, outcome: 'stale' }
      const temporary = `${target}.${process.pid}.tmp`
      writeFileSync(temporary, generated)
      renameSync(temporary, target)
      return { file, outcome: 'written' }
    },
    cleanup() {
      rmSync(scratch, { recursive: true, force: true })
    },
  }
}
