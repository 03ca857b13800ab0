import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { createTestSchema, type TestSchema } from './pg.ts'
import { spawnService, type SpawnedService } from './spawn-service.ts'

/** services/identity's entry, found from this file so the caller's cwd does not matter. */
const identityEntry = resolve(import.meta.dirname, '../../../services/identity/src/server.ts')

export interface StartIdentityOptions {
  /**
   * true: run on identity's embedded in-memory PGlite (no DATABASE_URL at all).
   * Default false: a fresh PostgreSQL schema of its own (createTestSchema), dropped by close().
   */
  embedded?: boolean
  /**
   * Extra environment for the identity process, applied last (it wins over the
   * defaults: PORT=0, HOST=127.0.0.1, a random BETTER_AUTH_SECRET, DATABASE_URL,
   * JWT_ISSUER/JWT_AUDIENCE/JWT_ALG as in DEFAULTS, RATE_LIMIT_ENABLED=false).
   */
  env?: Record<string, string | undefined>
}

export interface SignUpOptions {
  /** Default: a unique `user-<random>@example.test`. */
  email?: string
  /** Default: 24 random characters. */
  password?: string
  /** Default: `Test User`. */
  name?: string
}

export interface SignedUpUser {
  /** BetterAuth user id: the `sub` of the user's BetterAuth JWTs. */
  userId: string
  email: string
  password: string
  /** `name=value` of the session cookie, ready for a `Cookie` header. */
  cookie: string
  /** A fresh BetterAuth JWT (subject token) from GET /api/auth/token. */
  jwt: string
}

export interface StartedIdentity {
  /** Base URL of the identity process, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** `${url}/api/auth/jwks`: what token-service's BETTER_AUTH_JWKS_URL should point at. */
  jwksUrl: string
  /** `iss` of the JWTs (JWT_ISSUER). */
  issuer: string
  /** `aud` of the JWTs (JWT_AUDIENCE). */
  audience: string
  /** Algorithms the JWTs are signed with (JWT_ALG), for a verifier's allow-list. */
  algorithms: string[]
  /** Signs a new user up over HTTP and returns their session cookie and a JWT. */
  signUp(opts?: SignUpOptions): Promise<SignedUpUser>
  /** GET /api/auth/token with this session cookie; returns the JWT. */
  getJwt(cookie: string): Promise<string>
  /** Every stdout/stderr line of the process so far. */
  lines: string[]
  /** The child process (for tests of its shutdown). */
  service: SpawnedService
  /** Stops the process (SIGTERM) and drops its schema. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Starts services/identity (BetterAuth) as a child process for a test file,
 * isolated on its own PostgreSQL schema unless `embedded`. Call `close()` in
 * `t.teardown`.
 *
 * @example
 * const identity = await startIdentity()
 * t.teardown(() => identity.close())
 * const { jwt, userId } = await identity.signUp()
 */
export async function startIdentity(options: StartIdentityOptions = {}): Promise<StartedIdentity> {
  const schema: TestSchema | undefined = options.embedded ? undefined : await createTestSchema('t_identity')
  const env: Record<string, string | undefined> = {
    HOST: '127.0.0.1',
    PORT: '0',
    BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
    // undefined removes an inherited value: embedded must never reach a real server.
    DATABASE_URL: schema?.url,
    PGLITE_DATA_DIR: undefined,
    BETTER_AUTH_URL: 'http://localhost:8080',
    JWT_ISSUER: 'http://localhost:8080/api/auth',
    JWT_AUDIENCE: 'token-service',
    JWT_ALG: 'EdDSA',
    // Every test client shares one address, so BetterAuth's sign-up limit (3 per 10 s) would trip.
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'info',
    ...options.env,
  }

  let service: SpawnedService
  try {
    service = await spawnService({ entry: identityEntry, env })
  } catch (error) {
    await schema?.drop()
    throw error
  }

  const url = service.url
  // BetterAuth always trusts its own base URL's origin; sign-up from Node's fetch needs a trusted Origin.
  const origin = new URL(env.BETTER_AUTH_URL!).origin

  async function getJwt(cookie: string): Promise<string> {
    const response = await fetch(`${url}/api/auth/token`, { headers: { cookie } })
    const body = await response.text()
    if (response.status !== 200) throw new Error(`identity GET /api/auth/token answered ${response.status}: ${body}`)
    return (JSON.parse(body) as { token: string }).token
  }

  async function signUp(opts: SignUpOptions = {}): Promise<SignedUpUser> {
    const email = opts.email ?? `user-${randomBytes(6).toString('hex')}@example.test`
    const password = opts.password ?? randomBytes(18).toString('base64url')
    const response = await fetch(`${url}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ name: opts.name ?? 'Test User', email, password }),
    })
    const body = await response.text()
    if (response.status !== 200) throw new Error(`identity sign-up answered ${response.status}: ${body}`)
    const session = response.headers.getSetCookie().find((c) => /^(__Secure-)?better-auth\.session_token=/.test(c))
    if (!session) throw new Error('identity sign-up set no session cookie')
    const cookie = session.split(';')[0]!
    const userId = (JSON.parse(body) as { user: { id: string } }).user.id
    return { userId, email, password, cookie, jwt: await getJwt(cookie) }
  }

  let closed: Promise<void> | undefined
  return {
    url,
    jwksUrl: `${url}/api/auth/jwks`,
    issuer: env.JWT_ISSUER!,
    audience: env.JWT_AUDIENCE!,
    algorithms: [env.JWT_ALG!],
    service,
    signUp,
    getJwt,
    lines: service.lines,
    close() {
      closed ??= (async () => {
        try {
          await service.stop()
        } finally {
          await schema?.drop()
        }
      })()
      return closed
    },
  }
}
