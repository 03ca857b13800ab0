import { Verifier, type MessageProviders, type VerifierOptions } from '@pact-foundation/pact'
import { pactFilePath, type Participant } from './participants.ts'

/** pact-js does not re-export this type from its root. */
export type StateHandlers = NonNullable<VerifierOptions['stateHandlers']>

/** A provider's state set-up and message producers, by the names the pacts use. */
export interface ProviderStates {
  stateHandlers: StateHandlers
  messageProviders: MessageProviders
}

export interface ProviderVerification {
  provider: Participant
  /** The consumers whose committed pacts with this provider are replayed. */
  consumers: readonly Participant[]
  /** Where HTTP interactions are sent: the real provider (or, in the drift test, a proxy in front of it). */
  providerBaseUrl: string
  stateHandlers?: StateHandlers
  messageProviders?: MessageProviders
}

/** One failed interaction, as the verifier reports it. */
export interface VerificationMismatch {
  interaction: string
  /** Each mismatch on its own line: where (`$.keys[0].kid`, a header, the status) and what was expected. */
  details: string[]
}

/** Thrown when a provider does not honour a pact; its message is the readable report. */
export class ContractBroken extends Error {
  readonly mismatches: readonly VerificationMismatch[]
  constructor(provider: string, mismatches: readonly VerificationMismatch[], raw: string) {
    const lines = mismatches.flatMap((m) => [`  ✗ ${m.interaction}`, ...m.details.map((d) => `      ${d}`)])
    super(`${provider} does not honour its consumers' pacts:\n${lines.join('\n') || redactTokens(raw)}`)
    this.name = 'ContractBroken'
    this.mismatches = mismatches
  }
}

interface VerifierJson {
  result?: boolean
  errors?: Array<{ interaction?: string; mismatch?: { type?: string; message?: string; mismatches?: Array<Record<string, unknown>> } }>
}

/**
 * Mismatch reports quote the provider's actual answers, which hold access and
 * refresh tokens (of throwaway test users, but tokens all the same): they are
 * masked before anything is shown.
 */
export function redactTokens(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '[access token]')
    .replace(/(refresh_token=)[A-Za-z0-9_-]{16,}/g, '$1[refresh token]')
    .replace(/("refresh_token"\s*:\s*")[^"]+/g, '$1[refresh token]')
}

function describe(mismatch: Record<string, unknown>): string {
  const where = [mismatch.type, mismatch.path ?? mismatch.key].filter((part) => typeof part === 'string' && part !== '').join(' ')
  const message = typeof mismatch.mismatch === 'string' ? mismatch.mismatch : JSON.stringify(mismatch)
  return where ? `${where}: ${message}` : message
}

/** Turns the verifier's JSON result into one entry per failed interaction. */
export function readMismatches(raw: string): VerificationMismatch[] {
  let parsed: VerifierJson
  try {
    parsed = JSON.parse(raw) as VerifierJson
  } catch {
    return []
  }
  return (parsed.errors ?? []).map((error) => ({
    interaction: error.interaction ?? 'unnamed interaction',
    details: (error.mismatch?.mismatches?.length ? error.mismatch.mismatches.map(describe) : [error.mismatch?.message ?? JSON.stringify(error.mismatch)]).map(redactTokens),
  }))
}

/**
 * pact-js 17's verification proxy parses an `application/x-www-form-urlencoded`
 * request body into an object and forwards it JSON-encoded under the original
 * Content-Type and Content-Length (pact-js issue #884, still open), so the
 * provider receives garbage or waits for bytes that never come. This filter
 * (it runs after that parser, before the proxy) encodes the fields back into a
 * form, the way the pact's example was encoded, and fixes Content-Length.
 */
const replayFormBodies: NonNullable<VerifierOptions['requestFilter']> = (req, _res, next) => {
  const body: unknown = req.body
  if (req.is('application/x-www-form-urlencoded') && body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    const form = new URLSearchParams()
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) form.append(name, String(item))
    }
    const encoded = Buffer.from(form.toString())
    req.body = encoded
    req.headers['content-length'] = String(encoded.length)
  }
  next()
}

/**
 * Replays the committed pacts (contracts/pacts/<consumer>-<provider>.json)
 * against a running provider. Resolves when every interaction holds; rejects
 * with {@link ContractBroken} naming each failed interaction and mismatch.
 */
export async function verifyProvider(options: ProviderVerification): Promise<void> {
  const verifier = new Verifier({
    provider: options.provider,
    providerBaseUrl: options.providerBaseUrl,
    pactUrls: options.consumers.map((consumer) => pactFilePath(consumer, options.provider)),
    stateHandlers: options.stateHandlers ?? {},
    messageProviders: options.messageProviders ?? {},
    requestFilter: replayFormBodies,
    failIfNoPactsFound: true,
    logLevel: 'error',
  })
  try {
    await verifier.verifyProvider()
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error)
    throw new ContractBroken(options.provider, readMismatches(raw), raw)
  }
}
