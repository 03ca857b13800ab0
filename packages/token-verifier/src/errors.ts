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
  /** Structurally sound but past `exp`. */
  tokenExpired: 'ERR_TOKEN_EXPIRED',
} as const
export type TokenVerifierErrorCode = (typeof TokenVerifierErrorCode)[keyof typeof TokenVerifierErrorCode]

const messages: Record<TokenVerifierErrorCode, string> = {
  ERR_JWKS_UNAVAILABLE: 'verification keys are temporarily unavailable',
  ERR_JWKS_NO_MATCHING_KEY: 'the token is invalid',
  ERR_TOKEN_MALFORMED: 'the token is malformed',
  ERR_TOKEN_INVALID: 'the token is invalid',
  ERR_TOKEN_EXPIRED: 'the token is expired',
}

/** The one error class of this package. */
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
