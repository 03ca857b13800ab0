import Type from 'typebox'

/** One entry of `GET /sessions` (SPEC §6). Times are RFC 3339 strings. */
export const SessionView = Type.Object(
  {
    id: Type.String(),
    client_id: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    last_used_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
)
export type SessionView = Type.Static<typeof SessionView>

export const SessionList = Type.Array(SessionView)
export type SessionList = Type.Static<typeof SessionList>
