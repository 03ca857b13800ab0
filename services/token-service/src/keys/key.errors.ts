import { ApiError, TemporarilyUnavailable } from '../errors.ts'

/** No signing key is loaded yet (Redis unreachable at start, or still loading): 503 until the background load succeeds. */
export class KeysNotLoadedError extends TemporarilyUnavailable {
  readonly code = 'ERR_KEYS_NOT_LOADED'
  constructor(options: { cause?: unknown } = {}) {
    super('signing keys are not available yet', { cause: options.cause, retryAfterSeconds: 1 })
    this.name = 'KeysNotLoadedError'
  }
}

/** A stored private key cannot be opened: wrong or missing KEY_ENCRYPTION_KEY, or a tampered record. Never contains key material. */
export class KeyDecryptionError extends Error {
  readonly code = 'ERR_KEY_DECRYPTION'
  readonly kid: string
  constructor(kid: string, reason: string, options: { cause?: unknown } = {}) {
    super(`cannot decrypt the private key of ${kid}: ${reason}`, options)
    this.name = 'KeyDecryptionError'
    this.kid = kid
  }
}

/** Admin API: rotation refused because the next key has not been published long enough (SPEC §8 pre-publication). */
export class NextKeyTooYoungError extends ApiError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number) {
    super(409, 'NEXT_KEY_TOO_YOUNG', `the next key has not been published long enough; retry in ${retryAfterSeconds} s or use force=true`)
    this.name = 'NextKeyTooYoungError'
    this.retryAfterSeconds = retryAfterSeconds
  }
}

export class UnknownKeyError extends ApiError {
  constructor() {
    super(404, 'UNKNOWN_KID', 'no key with this kid')
    this.name = 'UnknownKeyError'
  }
}
