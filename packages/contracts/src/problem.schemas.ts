import Type from 'typebox'

/** RFC 9457 problem details with our stable machine `code`. */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  code: Type.String(),
})
export type Problem = Type.Static<typeof Problem>

/**
 * The `code` of every todo-api problem, with its status. Clients switch on the
 * code; the `ERR_AUTH_*` codes are those of @todo-auth/token-verifier's
 * bearer-auth plugin (the 401/403 answers also carry RFC 6750 `WWW-Authenticate`).
 */
export const TodoApiErrorStatus = {
  ERR_AUTH_TOKEN_MISSING: 401,
  ERR_AUTH_INVALID_REQUEST: 400,
  ERR_AUTH_INVALID_TOKEN: 401,
  ERR_AUTH_INSUFFICIENT_SCOPE: 403,
  ERR_AUTH_UNAVAILABLE: 503,
  ERR_VALIDATION: 400,
  ERR_MALFORMED_JSON: 400,
  ERR_JSON_TOO_DEEP: 400,
  ERR_INVALID_CHARACTERS: 400,
  ERR_INVALID_CURSOR: 400,
  ERR_INVALID_HOST: 400,
  ERR_BAD_REQUEST: 400,
  ERR_TODO_NOT_FOUND: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_DATABASE_UNAVAILABLE: 503,
  ERR_INTERNAL: 500,
} as const
export type TodoApiErrorCode = keyof typeof TodoApiErrorStatus
