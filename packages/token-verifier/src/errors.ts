/**
 * Every error this package throws carries one of these codes; callers switch
 * on `code`, never on the message. Messages are generic on purpose (no "kid
 * not found" or "bad signature" oracle, checklist R20); the underlying reason,
 * when there is one, is kept in `cause` for logs only.
 */
export const TokenVerifierErrorCode = {
  /** No usable key set is cached and fetching one failed or timed out: answer 503, never accept. */
  jwksUnavailable: 'ERR_JWKS_UNAVAILABLE',
  /** The key set holds no key for this `kid` and `alg`: the token is invalid. */
  jwksNoMatchingKey: 'ERR_JWKS_NO_MATCHING_KEY',
  /** Not a compact JWS of three base64url segments (RFC 7515 §7.1). */
  tokenMalformed: 'ERR_TOKEN_MALFORMED',
  /** Signature, header or claims failed verification. */
  tokenInvalid: 'ERR_TOKEN_INVALID',
  /** Verified, but past `exp`. */
  tokenExpired: 'ERR_TOKEN_EXPIRED',
} as const
export type TokenVerifierErrorCode = (typeof TokenVerifierErrorCode)[keyof typeof TokenVerifierErrorCode]

/** The codes of {@link BearerAuthError}: one per RFC 6750 outcome. */
export const BearerAuthErrorCode = {
  /** No bearer credentials: 401 with a bare challenge (RFC 6750 §3.1). */
  tokenMissing: 'ERR_AUTH_TOKEN_MISSING',
  /** Malformed or multiple credentials, or a token in the URL: 400 `invalid_request`. */
  invalidRequest: 'ERR_AUTH_INVALID_REQUEST',
  /** 401 `invalid_token`, whatever the reason (expired, bad signature, unknown key, wrong iss/aud/typ). */
  invalidToken: 'ERR_AUTH_INVALID_TOKEN',
  /** 403 `insufficient_scope`. */
  insufficientScope: 'ERR_AUTH_INSUFFICIENT_SCOPE',
  /** 503: the key set cannot be fetched and nothing usable is cached (fail closed, R22). */
  unavailable: 'ERR_AUTH_UNAVAILABLE',
} as const
export type BearerAuthErrorCode = (typeof BearerAuthErrorCode)[keyof typeof BearerAuthErrorCode]

const messages: Record<TokenVerifierErrorCode | BearerAuthErrorCode, string> = {
  ERR_JWKS_UNAVAILABLE: 'verification keys are temporarily unavailable',
  ERR_JWKS_NO_MATCHING_KEY: 'the token is invalid',
  ERR_TOKEN_MALFORMED: 'the token is malformed',
  ERR_TOKEN_INVALID: 'the token is invalid',
  ERR_TOKEN_EXPIRED: 'the token is expired',
  ERR_AUTH_TOKEN_MISSING: 'An access token is required',
  ERR_AUTH_INVALID_REQUEST: 'The Authorization header is malformed',
  ERR_AUTH_INVALID_TOKEN: 'The access token is invalid',
  ERR_AUTH_INSUFFICIENT_SCOPE: 'The access token lacks the required scope',
  ERR_AUTH_UNAVAILABLE: 'Access tokens cannot be verified right now',
}

/** The error class of token and key-set verification. */
export class TokenVerifierError extends Error {
  override name = 'TokenVerifierError'
  readonly code: TokenVerifierErrorCode

  constructor(code: TokenVerifierErrorCode, options?: { cause?: unknown }) {
    super(messages[code], options)
    this.code = code
  }
}

/** True when `error` is a {@link TokenVerifierError}, optionally with the given code. */
export function isTokenVerifierError(error: unknown, code?: TokenVerifierErrorCode): error is TokenVerifierError {
  return error instanceof TokenVerifierError && (code === undefined || error.code === code)
}

/**
 * An RFC 6750 failure of the Fastify plugin. `statusCode` and `headers`
 * (`WWW-Authenticate`, or `Retry-After` on 503) follow Fastify's error
 * conventions, so the default error handler and custom ones both send them.
 */
export class BearerAuthError extends Error {
  override name = 'BearerAuthError'
  readonly code: BearerAuthErrorCode
  readonly statusCode: 400 | 401 | 403 | 503
  /** The RFC 6750 `error` attribute, absent for a missing token. */
  readonly oauthError: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable' | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor(code: BearerAuthErrorCode, init: { realm: string; scopes?: readonly string[]; cause?: unknown }) {
    super(messages[code], { cause: init.cause })
    this.code = code
    const realm = `realm="${init.realm}"`
    switch (code) {
      case BearerAuthErrorCode.tokenMissing:
        this.statusCode = 401
        this.oauthError = undefined
        this.headers = { 'www-authenticate': `Bearer ${realm}` }
        break
      case BearerAuthErrorCode.invalidRequest:
        this.statusCode = 400
        this.oauthError = 'invalid_request'
        this.headers = { 'www-authenticate': `Bearer ${realm}, error="invalid_request", error_description="${this.message}"` }
        break
      case BearerAuthErrorCode.invalidToken:
        this.statusCode = 401
        this.oauthError = 'invalid_token'
        this.headers = { 'www-authenticate': `Bearer ${realm}, error="invalid_token", error_description="${this.message}"` }
        break
      case BearerAuthErrorCode.insufficientScope:
        this.statusCode = 403
        this.oauthError = 'insufficient_scope'
        this.headers = {
          'www-authenticate': `Bearer ${realm}, error="insufficient_scope", error_description="${this.message}", scope="${(init.scopes ?? []).join(' ')}"`,
        }
        break
      case BearerAuthErrorCode.unavailable:
        this.statusCode = 503
        this.oauthError = 'temporarily_unavailable'
        this.headers = { 'retry-after': '5' }
        break
    }
  }
}
