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
