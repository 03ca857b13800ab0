import Type from 'typebox'
import { ApiError } from '../errors.ts'
import type { Session } from '../sessions/session.store.ts'
import { isSessionId } from '../tokens/refresh-token.codec.ts'

// GET /sessions is paged like todo-api's GET /todos: `limit`, and an opaque `after` cursor that a
// `Link: <…>; rel="next"` header carries. The cursor is the position (created_at, id) of a page's
// last session in the newest-first order, base64url; a forged one is only another position in the
// caller's own list. The body stays the plain array, so clients that ignore Link see page one.

export const sessionPageSize = { default: 50, max: 100 } as const

export const SessionListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: sessionPageSize.max, description: `Page size, default ${sessionPageSize.default}.` })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque cursor from the previous page’s Link rel="next".' })),
  },
  { additionalProperties: false },
)

const encodeCursor = (session: Session) => Buffer.from(`${session.createdAt}.${session.sid}`).toString('base64url')

function decodeCursor(cursor: string): { createdAt: number; sid: string } {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match || !isSessionId(match[2]!)) throw new ApiError(400, 'INVALID_CURSOR', 'the after cursor is not one this API issued')
  return { createdAt: Number(match[1]), sid: match[2]! }
}

/** One page of `sessions` (newest first, as listForUser returns them) after `cursor`, and the next page's cursor. */
export function pageOf(sessions: readonly Session[], limit: number, cursor: string | undefined): { page: Session[]; next: string | undefined } {
  let rest = sessions
  if (cursor !== undefined) {
    const at = decodeCursor(cursor)
    // byNewest: createdAt descending, then sid ascending.
    rest = sessions.filter((s) => s.createdAt < at.createdAt || (s.createdAt === at.createdAt && s.sid > at.sid))
  }
  const page = rest.slice(0, limit)
  return { page, next: rest.length > limit ? encodeCursor(page.at(-1)!) : undefined }
}
