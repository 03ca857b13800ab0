import Type from 'typebox'

/** The Todo-Backend resource (SPEC §10). */
export const Todo = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String({ minLength: 1, maxLength: 500 }),
    completed: Type.Boolean(),
    order: Type.Union([Type.Integer(), Type.Null()]),
    url: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
)
export type Todo = Type.Static<typeof Todo>

export const TodoCreate = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    completed: Type.Optional(Type.Boolean()),
    order: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { additionalProperties: false },
)
export type TodoCreate = Type.Static<typeof TodoCreate>

export const TodoPatch = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    completed: Type.Optional(Type.Boolean()),
    order: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { additionalProperties: false },
)
export type TodoPatch = Type.Static<typeof TodoPatch>

export const TodoList = Type.Array(Todo)
export type TodoList = Type.Static<typeof TodoList>
