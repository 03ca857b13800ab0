// Provider verifications in a process of their own, started by
// support/verify-in-child.ts. Pact's native verifier prints its report
// straight to the process's stdout and quotes the provider's actual answers,
// access and refresh tokens included; the parent drops that stdout (unless
// PACT_REPORT=1) and gets only the redacted result, over IPC.
import { Participant } from '../../support/participants.ts'
import { ContractBroken, verifyProvider, type ProviderStates } from '../../support/verify-provider.ts'
import type { VerificationOutcome, VerificationRequest } from '../../support/verify-in-child.ts'
import { identityStates } from '../states/identity.states.ts'
import type { ProviderUrls } from '../states/provider-urls.ts'
import { todoApiStates } from '../states/todo-api.states.ts'
import { tokenServiceStates } from '../states/token-service.states.ts'

const statesOf: Partial<Record<Participant, (urls: ProviderUrls) => ProviderStates>> = {
  [Participant.identity]: identityStates,
  [Participant.tokenService]: tokenServiceStates,
  [Participant.todoApi]: todoApiStates,
}

async function verify(request: VerificationRequest): Promise<VerificationOutcome> {
  const states = statesOf[request.provider]
  if (!states) return { ok: false, message: `no provider states for ${request.provider}`, mismatches: [] }
  try {
    await verifyProvider({ provider: request.provider, consumers: request.consumers, providerBaseUrl: request.providerBaseUrl, ...states(request.urls) })
    return { ok: true, message: '', mismatches: [] }
  } catch (error) {
    if (error instanceof ContractBroken) return { ok: false, message: error.message, mismatches: [...error.mismatches] }
    return { ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error), mismatches: [] }
  }
}

// One after the other: each verification starts its own proxy and states.
const requests = JSON.parse(process.env.PACT_VERIFICATIONS ?? '[]') as VerificationRequest[]
const outcomes: VerificationOutcome[] = []
for (const request of requests) outcomes.push(await verify(request))
process.send?.(outcomes, () => process.exit(0))
