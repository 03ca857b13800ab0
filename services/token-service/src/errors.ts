import { OAuthErrorStatus, type OAuthErrorCode, type OAuthErrorBody } from '@todo-auth/contracts'

/**
 * An error that reaches the client as an RFC 6749 §5.2 body. The class name is
 * the OAuth error code; `description` is safe to show (no token, key or
 * internal detail); `cause` carries the internal reason for the logs only.
 */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode
  readonly statusCode: number
  readonly description: string
  readonly headers: Readonly<Record<string, string>>
  constructor(error: OAuthErrorCode, description: string, options: { cause?: unknown; statusCode?: number; headers?: Record<string, string> } = {}) {
    super(`${error}: ${description}`, { cause: options.cause })
    this.name = 'OAuthError'
    this.error = error
    this.description = description
    this.statusCode = options.statusCode ?? OAuthErrorStatus[error]
    this.headers = options.headers ?? {}
  }

  toBody(): OAuthErrorBody {
    return { error: this.error, error_description: this.description }
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, options?: { cause?: unknown; statusCode?: number }) {
    super('invalid_request', description, options)
  }
}
export class InvalidClient extends OAuthError {
  constructor(description = 'unknown client') {
    super('invalid_client', description)
  }
}
export class InvalidGrant extends OAuthError {
  constructor(description: string, options?: { cause?: unknown }) {
    super('invalid_grant', description, options)
  }
}
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description)
  }
}
export class UnsupportedGrantType extends OAuthError {
  constructor(description = 'unsupported grant_type') {
    super('unsupported_grant_type', description)
  }
}
export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description)
  }
}
export class InvalidTarget extends OAuthError {
  constructor(description = 'unknown audience or resource') {
    super('invalid_target', description)
  }
}
export class TemporarilyUnavailable extends OAuthError {
  constructor(description: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super('temporarily_unavailable', description, {
      cause: options?.cause,
      headers: { 'retry-after': String(options?.retryAfterSeconds ?? 5) },
    })
  }
}

/** Thrown by stores when Redis cannot be reached; mapped to 503 temporarily_unavailable. */
export class StoreUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE'
  constructor(cause: unknown) {
    super('state store unavailable', { cause })
    this.name = 'StoreUnavailableError'
  }
}

/** Admin API and session API errors (not OAuth endpoints): a stable code and a status. */
export class ApiError extends Error {
  readonly code: string
  readonly statusCode: number
  constructor(statusCode: number, code: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.code = code
  }
}
