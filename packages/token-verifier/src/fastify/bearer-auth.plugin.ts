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

  /** RFC 6750 §2.1: exactly one `Authorization: Bearer <b64token>`, never a token in the URL (§2.3, R19). */
  function credentials(request: FastifyRequest, reply: FastifyReply): string {
    let headerCount = 0
    const raw = request.raw.rawHeaders
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.toLowerCase() === 'authorization') headerCount += 1
    }
    const query = request.query
    if (typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token')) {
      throw refuse(reply, BearerAuthErrorCode.invalidRequest)
    }
    if (headerCount > 1) throw refuse(reply, BearerAuthErrorCode.invalidRequest)
    const header = request.headers.authorization
    if (header === undefined || header === '') throw refuse(reply, BearerAuthErrorCode.tokenMissing)
    const space = header.indexOf(' ')
    const scheme = space === -1 ? header : header.slice(0, space)
    // Another scheme (Basic, …) is no bearer credential at all: a bare challenge (RFC 6750 §3.1).
    if (scheme.toLowerCase() !== 'bearer') throw refuse(reply, BearerAuthErrorCode.tokenMissing)
    const token = space === -1 ? '' : header.slice(space + 1).replace(/^ +/, '')
    if (!b64token.test(token)) throw refuse(reply, BearerAuthErrorCode.invalidRequest)
    return token
  }

  fastify.decorateRequest('auth', null)

  fastify.addHook('onRequest', async (request, reply) => {
    const required = request.routeOptions.config.scopes
    if (required === undefined) return
    let token: string
    try {
      token = credentials(request, reply)
    } catch (error) {
      request.log.info({ event: 'auth_failed', code: (error as BearerAuthError).code }, 'bearer credentials refused')
      throw error
    }
    let verified: VerifiedAccessToken
    try {
      verified = await verifier.verify(token)
    } catch (error) {
      const code = error instanceof TokenVerifierError ? error.code : 'unexpected'
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined
      if (code === TokenVerifierErrorCode.jwksUnavailable) {
        request.log.warn({ event: 'auth_unavailable', code, reason }, 'access token keys unavailable')
        throw refuse(reply, BearerAuthErrorCode.unavailable, { cause: error })
      }
      if (code === 'unexpected') request.log.error({ event: 'auth_failed', err: error }, 'unexpected error verifying an access token')
      else request.log.info({ event: 'auth_failed', code, reason, token: fingerprint(token) }, 'access token refused')
      throw refuse(reply, BearerAuthErrorCode.invalidToken, { cause: error })
    }
    const missing = required.filter((scope) => !verified.scope.includes(scope))
    if (missing.length > 0) {
      request.log.info({ event: 'auth_forbidden', sub: verified.sub, jti: verified.jti, required }, 'access token lacks scope')
      throw refuse(reply, BearerAuthErrorCode.insufficientScope, { scopes: required })
    }
    request.auth = verified
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
