import { TodoApiErrorStatus, type Problem, type TodoApiErrorCode } from '@todo-auth/contracts'

export type { TodoApiErrorCode }

/** Title and default detail of every problem todo-api answers with. The codes and statuses live in contracts. */
const catalog: Record<TodoApiErrorCode, { title: string; detail: string }> = {
  ERR_AUTH_TOKEN_MISSING: { title: 'Unauthorized', detail: 'An access token is required.' },
  ERR_AUTH_INVALID_REQUEST: { title: 'Bad Request', detail: 'The Authorization header is malformed.' },
  ERR_AUTH_INVALID_TOKEN: { title: 'Unauthorized', detail: 'The access token is invalid.' },
  ERR_AUTH_INSUFFICIENT_SCOPE: { title: 'Forbidden', detail: 'The access token lacks the required scope.' },
  ERR_AUTH_UNAVAILABLE: { title: 'Service Unavailable', detail: 'Access tokens cannot be verified right now; retry later.' },
  ERR_VALIDATION: { title: 'Bad Request', detail: 'The request is invalid.' },
  ERR_MALFORMED_JSON: { title: 'Bad Request', detail: 'The body is not acceptable JSON.' },
  ERR_JSON_TOO_DEEP: { title: 'Bad Request', detail: 'The body is nested too deeply.' },
  ERR_INVALID_CHARACTERS: { title: 'Bad Request', detail: 'The body contains a NUL character.' },
  ERR_INVALID_CURSOR: { title: 'Bad Request', detail: 'The paging cursor is invalid.' },
  ERR_INVALID_HOST: { title: 'Bad Request', detail: 'The Host header is invalid.' },
  ERR_BAD_REQUEST: { title: 'Bad Request', detail: 'The request is invalid.' },
  ERR_TODO_NOT_FOUND: { title: 'Not Found', detail: 'No such todo.' },
  ERR_ROUTE_NOT_FOUND: { title: 'Not Found', detail: 'No such resource.' },
  ERR_PAYLOAD_TOO_LARGE: { title: 'Payload Too Large', detail: 'The body is too large.' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { title: 'Unsupported Media Type', detail: 'Send application/json.' },
  ERR_DATABASE_UNAVAILABLE: { title: 'Service Unavailable', detail: 'The database is unavailable; retry later.' },
  ERR_INTERNAL: { title: 'Internal Server Error', detail: 'An unexpected error occurred.' },
}

/** An error todo-api raises on purpose; the error handler turns it into its problem. */
export class TodoApiError extends Error {
  override name = 'TodoApiError'
  readonly code: TodoApiErrorCode
  readonly statusCode: number

  constructor(code: TodoApiErrorCode, detail?: string) {
    super(detail ?? catalog[code].detail)
    this.code = code
    this.statusCode = TodoApiErrorStatus[code]
  }
}

/** The RFC 9457 body of a code. `detail` must never carry internal information. */
export function problem(code: TodoApiErrorCode, detail?: string): Problem {
  return {
    type: `urn:todo-auth:problem:${code.toLowerCase().replace(/^err_/, '').replaceAll('_', '-')}`,
    title: catalog[code].title,
    status: TodoApiErrorStatus[code],
    detail: detail ?? catalog[code].detail,
    code,
  }
}
