import Type from 'typebox'

/**
 * 1 to 500 characters, no NUL (PostgreSQL text cannot hold U+0000, so a NUL
 * must be a 400 here rather than a database error later).
 */
const Title = Type.String({ minLength: 1, maxLength: 500, pattern: '^[^\\u0000]*$' })

/** A PostgreSQL `integer`: anything wider must be a 400, not an overflow in the database. */
const Order = Type.Union([Type.Integer({ minimum: -2147483648, maximum: 2147483647 }), Type.Null()])

/** The Todo-Backend resource (SPEC §10). */
export const Todo = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Title,
    completed: Type.Boolean(),
    order: Order,
    /** The absolute URL of this todo as the caller reached it. */
    url: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
)
export type Todo = Type.Static<typeof Todo>

/** `POST /todos` body. `id`, the owner and the timestamps are never client-settable (R54). */
export const TodoCreate = Type.Object(
  {
    title: Title,
    completed: Type.Optional(Type.Boolean()),
    order: Type.Optional(Order),
  },
  { additionalProperties: false },
)
export type TodoCreate = Type.Static<typeof TodoCreate>

/** `PATCH /todos/{id}` body: any subset. */
export const TodoPatch = Type.Object(
  {
    title: Type.Optional(Title),
    completed: Type.Optional(Type.Boolean()),
    order: Type.Optional(Order),
  },
  { additionalProperties: false },
)
export type TodoPatch = Type.Static<typeof TodoPatch>

export const TodoList = Type.Array(Todo)
export type TodoList = Type.Static<typeof TodoList>

/** `GET /todos` paging limits (SPEC §10). */
export const TodoListLimit = { default: 100, max: 500 } as const
