import { betterAuth, type BetterAuthOptions } from 'better-auth'
import { admin } from 'better-auth/plugins/admin'
import { jwt, type JwtOptions } from 'better-auth/plugins/jwt'
import { openAPI } from 'better-auth/plugins/open-api'
import type { FastifyBaseLogger } from 'fastify'
import type { IdentityConfig, JwtAlgorithm, LogLevel } from './config.ts'
import type { IdentityDatabase } from './database.ts'
import { sessionEventsPlugin, type RecordSessionEvent } from './session-events/session-event-hooks.ts'

/**
 * The only header BetterAuth reads the client address from. auth.routes.ts
 * drops any incoming copy and sets it to Fastify's request.ip, which honours
 * TRUST_PROXY: rate limits and session IPs key on the real peer (checklist R58).
 */
export const clientIpHeader = 'x-identity-client-ip'

export const defaultRole = 'user'

/** Claims beyond BetterAuth's sub, iss, aud, iat and exp; never the whole user row. */
export interface SubjectTokenClaims {
  email: string
  role: string
}

export function subjectTokenClaims(user: { email: string; role?: unknown }): SubjectTokenClaims {
  return { email: user.email, role: typeof user.role === 'string' && user.role !== '' ? user.role : defaultRole }
}

const keyPairConfigs = {
  EdDSA: { alg: 'EdDSA', crv: 'Ed25519' },
  ES256: { alg: 'ES256' },
  ES512: { alg: 'ES512' },
  RS256: { alg: 'RS256', modulusLength: 2048 },
  PS256: { alg: 'PS256', modulusLength: 2048 },
} as const satisfies Record<JwtAlgorithm, NonNullable<NonNullable<JwtOptions['jwks']>['keyPairConfig']>>

export function jwtPluginOptions(config: IdentityConfig) {
  return {
    jwks: { keyPairConfig: keyPairConfigs[config.jwt.alg] },
    jwt: {
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      // A string is a lifetime from iat; a number would be an absolute exp.
      expirationTime: `${config.jwt.ttlSeconds}s`,
      definePayload: ({ user }) => subjectTokenClaims(user),
    },
    // SPEC §2: the JWT comes from GET /api/auth/token only, not as a header on every get-session.
    disableSettingJwtHeader: true,
  } satisfies JwtOptions
}

const betterAuthLevel = (level: LogLevel) => (level === 'trace' || level === 'debug' ? 'debug' : level === 'fatal' ? 'error' : level === 'silent' ? 'error' : level)

/**
 * BetterAuth options, every security-relevant default pinned: its own defaults
 * depend on NODE_ENV (origin check off under NODE_ENV=test, rate limit only
 * in production, cookie security guessed), and behaviour here is switched by
 * explicit settings only.
 */
export function authOptions(config: IdentityConfig, database: IdentityDatabase, log: FastifyBaseLogger, recordSessionEvent?: RecordSessionEvent) {
  return {
    appName: 'todo-auth identity',
    baseURL: config.baseURL,
    basePath: '/api/auth',
    secret: config.secret,
    database: {
      db: database.db,
      // Without type a Kysely instance is taken for SQLite and migrations fail.
      type: 'postgres' as const,
      // kysely's PGlite driver shares one connection, so concurrent transactions would interleave.
      transaction: database.kind === 'postgres',
    },
    emailAndPassword: {
      enabled: true,
      autoSignIn: true,
      requireEmailVerification: false,
      ...(recordSessionEvent ? { onPasswordReset: ({ user }: { user: { id: string } }) => recordSessionEvent(user.id, 'password_reset') } : {}),
    },
    // Every way a user row goes (admin remove-user, delete-user and its callback) ends their token-service sessions.
    ...(recordSessionEvent ? { databaseHooks: { user: { delete: { after: (user: { id: string }) => recordSessionEvent(user.id, 'deleted') } } } } : {}),
    trustedOrigins: [...config.trustedOrigins],
    rateLimit: { enabled: config.rateLimitEnabled, storage: 'memory' as const },
    telemetry: { enabled: false },
    logger: {
      disabled: config.logLevel === 'silent',
      level: betterAuthLevel(config.logLevel),
      log(level: 'debug' | 'info' | 'warn' | 'error', message: string, ...args: unknown[]) {
        const err = args.find((arg) => arg instanceof Error)
        const details = args.filter((arg) => !(arg instanceof Error))
        log[level]({ ...(err ? { err } : {}), ...(details.length > 0 ? { details } : {}) }, message)
      },
    },
    advanced: {
      useSecureCookies: config.baseURL.startsWith('https://'),
      disableOriginCheck: false,
      disableCSRFCheck: false,
      trustedProxyHeaders: false,
      ipAddress: { ipAddressHeaders: [clientIpHeader] },
    },
    // openAPI: the document of every endpoint at GET /api/auth/open-api/generate-schema (and /openapi.json,
    // routes/openapi.routes.ts). No reference page: it would load Scalar from a CDN.
    plugins: [jwt(jwtPluginOptions(config)), admin({ defaultRole }), openAPI({ disableDefaultReference: true }), ...(recordSessionEvent ? [sessionEventsPlugin(recordSessionEvent)] : [])],
  } satisfies BetterAuthOptions
}

/** The BetterAuth instance: email + password, jwt plugin, admin plugin (role, banning). */
export function createAuth(config: IdentityConfig, database: IdentityDatabase, log: FastifyBaseLogger, recordSessionEvent?: RecordSessionEvent) {
  return betterAuth(authOptions(config, database, log, recordSessionEvent))
}

export type Auth = ReturnType<typeof createAuth>
