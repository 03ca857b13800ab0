import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Secrets of the local development stack. Never printed; kept so that a restart keeps sessions, keys and users. */
export interface DevSecrets {
  /** identity's BETTER_AUTH_SECRET (encrypts its JWT private key at rest, signs its cookies). */
  betterAuthSecret: string
  /** token-service's KEY_ENCRYPTION_KEY (64 hex characters). */
  keyEncryptionKey: string
  /** token-service's ADMIN_TOKEN. */
  adminToken: string
}

const fileName = 'dev-secrets.json'

/**
 * Reads `<dataDir>/dev-secrets.json`, creating it (mode 0600) with fresh random
 * values the first time. A file missing a field gets that field added; values
 * already there are never replaced (identity could no longer decrypt its key).
 */
export function loadOrCreateDevSecrets(dataDir: string): { secrets: DevSecrets; created: boolean } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, fileName)
  const existing: Partial<DevSecrets> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Partial<DevSecrets>) : {}
  const secrets: DevSecrets = {
    betterAuthSecret: existing.betterAuthSecret ?? randomBytes(32).toString('base64url'),
    keyEncryptionKey: existing.keyEncryptionKey ?? randomBytes(32).toString('hex'),
    adminToken: existing.adminToken ?? randomBytes(32).toString('base64url'),
  }
  const created = existing.betterAuthSecret === undefined || existing.keyEncryptionKey === undefined || existing.adminToken === undefined
  if (created) writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  chmodSync(path, 0o600)
  return { secrets, created }
}
