import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { BearerAuthError, BearerAuthErrorCode, TokenVerifierError, TokenVerifierErrorCode } from '../errors.ts'
import type { AccessTokenVerifier, VerifiedAccessToken } from '../jwt/verify-access-token.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token of a route that declares `config.scopes`; null elsewhere. */
    auth: VerifiedAccessToken | null
  }
  interface FastifyContextConfig {
    /**
     * Declaring this makes the route require a valid bearer token carrying every listed scope
     * (`[]`: any valid token). Routes without it are not authenticated by the plugin.
     */
    scopes?: readonly string[]
  }
}

/** Options of {@link bearerAuthPlugin}. */
export interface BearerAuthPluginOptions {
  verifier: AccessTokenVerifier
  /** The `realm` of the challenges (RFC 6750 §3); default `api`. */
  realm?: string
}

/** RFC 6750 §2.1 `b64token`. */
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/
/** A quoted-string without quotes or backslashes, so the challenge needs no escaping. */
const safeRealm = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/

/** A short, non-reversible label for a token in logs (never the token itself, R19/R60). */
const fingerprint = (token: string) => createHash('sha256').update(token).digest('base64url').slice(0, 12)

const bearerAuth: FastifyPluginAsync<BearerAuthPluginOptions> = async (fastify, options) => {
  const realm = options.realm ?? 'api'
  if (!safeRealm.test(realm)) throw new TypeError('realm must be printable ASCII without quotes or backslashes')
  const { verifier } = options

  const refuse = (reply: FastifyReply, code: BearerAuthErrorCode, init: { scopes?: readonly string[]; cause?: unknown } = {}) => {
    const error = new BearerAuthError(code, { realm, ...init })
    reply.headers(error.headers)
    return error
  }

  /**
   * RFC 6750 §2.1: exactly one `Authorization: Bearer <token>`, never a token in the URL (§2.3, R19).
   * Returns the token as sent (its b64token syntax is checked by the caller), or the refusal.
   */
  function credentials(request: FastifyRequest, reply: FastifyReply): string | BearerAuthError {
    let headerCount = 0
    const raw = request.raw.rawHeaders
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      if (name.length === 13 && name.toLowerCase() === 'authorization') headerCount += 1
    }
    const query = request.query
    if (typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token')) {
      return refuse(reply, BearerAuthErrorCode.invalidRequest)
    }
    if (headerCount > 1) return refuse(reply, BearerAuthErrorCode.invalidRequest)
    const header = request.headers.authorization
    if (header === undefined || header === '') return refuse(reply, BearerAuthErrorCode.tokenMissing)
    const space = header.indexOf(' ')
    const scheme = space === -1 ? header : header.slice(0, space)
    // Another scheme (Basic, …) is no bearer credential at all: a bare challenge (RFC 6750 §3.1).
    if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return refuse(reply, BearerAuthErrorCode.tokenMissing)
    let start = space + 1
    while (header.charCodeAt(start) === 0x20) start += 1
    return space === -1 ? '' : header.slice(start)
  }

  /** Scope check (403) on a verified token; undefined when the request may proceed. */
  function authorize(request: FastifyRequest, reply: FastifyReply, verified: VerifiedAccessToken, required: readonly string[]): BearerAuthError | undefined {
    for (const scope of required) {
      if (!verified.scope.includes(scope)) {
        request.log.info({ event: 'auth_forbidden', sub: verified.sub, jti: verified.jti, required }, 'access token lacks scope')
        return refuse(reply, BearerAuthErrorCode.insufficientScope, { scopes: required })
      }
    }
    request.auth = verified
    return undefined
  }

  function refused(request: FastifyRequest, reply: FastifyReply, token: string, error: unknown): BearerAuthError {
    const code = error instanceof TokenVerifierError ? error.code : 'unexpected'
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined
    if (code === TokenVerifierErrorCode.jwksUnavailable) {
      request.log.warn({ event: 'auth_unavailable', code, reason }, 'access token keys unavailable')
      return refuse(reply, BearerAuthErrorCode.unavailable, { cause: error })
    }
    if (code === 'unexpected') request.log.error({ event: 'auth_failed', err: error }, 'unexpected error verifying an access token')
    else request.log.info({ event: 'auth_failed', code, reason, token: fingerprint(token) }, 'access token refused')
    return refuse(reply, BearerAuthErrorCode.invalidToken, { cause: error })
  }

  fastify.decorateRequest('auth', null)

  // A callback hook, not an async one: a token the cache can serve is authenticated synchronously,
  // with no promise on the way (this hook runs on every request of every protected route).
  fastify.addHook('onRequest', (request, reply, done) => {
    const required = request.routeOptions.config.scopes
    if (required === undefined) return done()
    const token = credentials(request, reply)
    if (typeof token !== 'string') {
      request.log.info({ event: 'auth_failed', code: token.code }, 'bearer credentials refused')
      return done(token)
    }
    // Every token the cache holds passed the compact-JWS check, a subset of b64token: a hit needs no syntax check.
    const hit = verifier.cached?.(token)
    if (hit !== undefined) return done(authorize(request, reply, hit, required))
    if (!b64token.test(token)) {
      const error = refuse(reply, BearerAuthErrorCode.invalidRequest)
      request.log.info({ event: 'auth_failed', code: error.code }, 'bearer credentials refused')
      return done(error)
    }
    verifier.verify(token).then(
      (verified) => done(authorize(request, reply, verified, required)),
      (error: unknown) => done(refused(request, reply, token, error)),
    )
  })
}

/**
 * Fastify plugin: authenticates every route whose `config.scopes` is set, with RFC 6750 answers —
 * no token 401 (bare `WWW-Authenticate: Bearer realm=…`), malformed or multiple credentials 400
 * `invalid_request`, invalid token 401 `invalid_token`, missing scope 403 `insufficient_scope`
 * (with `scope=`), keys unavailable with nothing cached 503. Failures are thrown as
 * {@link BearerAuthError} (with `statusCode` and `headers`) for the app's error handler.
 * On success `request.auth` holds the {@link VerifiedAccessToken} (frozen: with the cache it is shared).
 *
 * The verifier's verified-token cache is on by default (10 000 tokens; see
 * `createAccessTokenVerifier({ cache })`, `cache: false` turns it off): a token seen before is
 * answered from memory while it is unexpired and its key is still in the key set, so the
 * signature check (about 70 µs of CPU for ES256) is paid once per token, not per request.
 */
export const bearerAuthPlugin = fp(bearerAuth, { fastify: '5.x', name: '@todo-auth/token-verifier/bearer-auth' })
