import { TodoApiError } from '../errors.ts'
import type { TodoPosition } from './todo.repository.ts'

// Keyset paging: the `after` cursor is the position (order, created_at, id) of the last todo of a page,
// base64url JSON. Unlike offsets, pages neither skip nor repeat rows when todos are added or removed
// meanwhile, and every page costs one index range scan. A forged cursor is only another position in
// the caller's own list: every query is still scoped to the caller.

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const isoMillis = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** `createdAt` as the repository returns it: ISO 8601, UTC, milliseconds. */
export function encodeCursor(position: { order: number | null; createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([position.order, position.createdAt, position.id])).toString('base64url')
}

/** Throws ERR_INVALID_CURSOR for anything encodeCursor could not have produced. */
export function decodeCursor(cursor: string): TodoPosition {
  const invalid = () => new TodoApiError('ERR_INVALID_CURSOR')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  if (!Array.isArray(value) || value.length !== 3) throw invalid()
  const [order, createdAt, id] = value as [unknown, unknown, unknown]
  const orderOk = order === null || (Number.isInteger(order) && (order as number) >= -2147483648 && (order as number) <= 2147483647)
  if (!orderOk || typeof createdAt !== 'string' || !isoMillis.test(createdAt) || typeof id !== 'string' || !uuid.test(id)) throw invalid()
  const date = new Date(createdAt)
  if (Number.isNaN(date.getTime())) throw invalid()
  return { order: order as number | null, createdAt: date, id }
}
