// One token-service verification in a process of its own (started by
// drift.verify.test.ts). Pact's native verifier prints its report straight to
// the process's stdout, quoting the provider's actual answers, tokens
// included; here that stdout is discarded by the parent, and only the
// redacted result travels back over IPC.
import { ContractBroken, verifyProvider } from '../../support/verify-provider.ts'
import type { Participant } from '../../support/consumer-pact.ts'
import { tokenServiceStates } from '../token-service.states.ts'

export interface ChildResult {
  ok: boolean
  message?: string
  mismatches?: ContractBroken['mismatches']
}

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}

let result: ChildResult
try {
  await verifyProvider({
    provider: 'token-service',
    consumers: [env('PACT_CONSUMER') as Participant],
    providerBaseUrl: env('PROVIDER_BASE_URL'),
    ...tokenServiceStates(env('IDENTITY_URL'), env('TOKEN_SERVICE_URL')),
  })
  result = { ok: true }
} catch (error) {
  result = error instanceof ContractBroken ? { ok: false, message: error.message, mismatches: error.mismatches } : { ok: false, message: String(error) }
}
process.send?.(result, () => process.exit(0))
