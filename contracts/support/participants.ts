import { join, resolve } from 'node:path'

/** The committed pact files: written by the consumer tests, read by the provider verifications. */
export const pactsDir = resolve(import.meta.dirname, '../pacts')

/** The participant names used in pact files (pact names a file `<consumer>-<provider>.json`). */
export const Participant = {
  identity: 'identity',
  tokenService: 'token-service',
  todoApi: 'todo-api',
  web: 'web',
} as const
export type Participant = (typeof Participant)[keyof typeof Participant]

export function pactFilePath(consumer: Participant, provider: Participant): string {
  return join(pactsDir, `${consumer}-${provider}.json`)
}
