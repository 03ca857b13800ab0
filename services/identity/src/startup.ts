import { getMigrations } from 'better-auth/db/migration'
import { createJwk, resolveSigningKey } from 'better-auth/plugins/jwt'
import { jwtPluginOptions, type Auth } from './auth.ts'
import type { IdentityConfig } from './config.ts'
import type { IdentityDatabase } from './database.ts'
import { IdentityStartupError } from './errors.ts'
import { migrateOutbox } from './session-events/session-event.repository.ts'

export interface SigningKey {
  kid: string
  alg: string
}

/**
 * Everything that must happen once before the first request, under the
 * database's start-up lock so that instances starting together do not race:
 * BetterAuth's migrations and the session event outbox, then the signing key.
 */
export async function prepareAuth(auth: Auth, database: IdentityDatabase, config: IdentityConfig): Promise<SigningKey> {
  return database.withStartupLock(async () => {
    const { runMigrations } = await getMigrations(auth.options)
    await runMigrations()
    await migrateOutbox(database.db)
    return ensureSigningKey(auth, config)
  })
}

/**
 * BetterAuth creates its key lazily at the first signing, and concurrent first
 * requests each create one (better-auth#5663). Creating it here, before the
 * server listens, leaves requests nothing to create. A key of another
 * algorithm (JWT_ALG changed) would otherwise keep signing, so a key of the
 * configured algorithm is added; the old one stays published for its tokens.
 */
async function ensureSigningKey(auth: Auth, config: IdentityConfig): Promise<SigningKey> {
  const options = jwtPluginOptions(config)
  // Enough of an endpoint context for the plugin's key helpers: they use ctx.context only.
  const ctx = { context: await auth.$context } as unknown as Parameters<typeof createJwk>[0]
  const { keys } = await auth.api.getJwks() // creates the first key when there is none
  if (!keys.some((key) => key.alg === config.jwt.alg)) await createJwk(ctx, options)
  let key: Awaited<ReturnType<typeof resolveSigningKey>>
  try {
    key = await resolveSigningKey(ctx, options)
  } catch (error) {
    throw new IdentityStartupError('IDENTITY_SIGNING_KEY_UNUSABLE', 'the stored JWT signing key cannot be decrypted with BETTER_AUTH_SECRET (was the secret changed?)', { cause: error })
  }
  if (!key || key.alg !== config.jwt.alg) {
    throw new IdentityStartupError('IDENTITY_SIGNING_KEY_UNUSABLE', `no ${config.jwt.alg} signing key could be selected`)
  }
  return { kid: key.kid, alg: key.alg }
}
