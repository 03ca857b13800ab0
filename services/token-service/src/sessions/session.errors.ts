/**
 * The internal cause of the invalid_grant a reused refresh token gets (RFC 9700 §4.14.2): the
 * session it ended and whose it was, for the `refresh_token_reuse` audit event. Never the token.
 */
export class RefreshTokenReused extends Error {
  readonly sid: string
  readonly sub: string
  constructor(sid: string, sub: string) {
    super(`refresh token reuse detected: session ${sid} of user ${sub} revoked`)
    this.name = 'RefreshTokenReused'
    this.sid = sid
    this.sub = sub
  }
}
