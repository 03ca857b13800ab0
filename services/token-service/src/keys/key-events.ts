import type { FastifyBaseLogger } from 'fastify'

/** What the key manager reports for audit logs and metrics. Only kids, never key material. */
export type KeyEvent =
  | { type: 'created'; kids: readonly string[] }
  | { type: 'rotated'; trigger: 'schedule' | 'admin'; forced: boolean; current: string; next: string; retired: string }
  | { type: 'revoked'; kid: string; previousState: string; current: string | null; next: string | null }
  | { type: 'removed'; kids: readonly string[] }

export type EmitKeyEvent = (event: KeyEvent) => void

/** Logs every key event (kids only) and hands it to `onEvent`. */
export function keyEventEmitter(log: FastifyBaseLogger, onEvent?: EmitKeyEvent): EmitKeyEvent {
  return (event) => {
    const { type, ...facts } = event
    log.info({ event: `key_${type}`, ...facts }, `signing key ${type}`)
    onEvent?.(event)
  }
}
