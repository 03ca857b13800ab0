/** The codes of a JSON body refused before it is parsed; each service answers them in its own error style. */
export const JsonBodyErrorCode = {
  /** Objects and arrays nested deeper than the limit (a stack-overflow attempt on whatever walks the value). */
  tooDeep: 'ERR_JSON_TOO_DEEP',
  /** A NUL character (`\u0000`) in a string or a member name: PostgreSQL cannot store it in text. */
  invalidCharacters: 'ERR_INVALID_CHARACTERS',
} as const
export type JsonBodyErrorCode = (typeof JsonBodyErrorCode)[keyof typeof JsonBodyErrorCode]

/**
 * Nesting depth every service accepts in a JSON body. The deepest legitimate
 * body is 2 levels (an object of scalars, BetterAuth's sign-up with a few
 * extra fields); 32 leaves room and stays far below what a recursive walk
 * (JSON.stringify, a validator, a driver) survives.
 */
export const jsonMaxDepth = 32

/** A JSON body refused by checkJsonBody: a client error (400), never a 5xx. */
export class JsonBodyError extends Error {
  readonly code: JsonBodyErrorCode
  readonly statusCode = 400
  constructor(code: JsonBodyErrorCode, message: string) {
    super(message)
    this.name = 'JsonBodyError'
    this.code = code
  }
}

const backslash = 0x5c
const quote = 0x22

/**
 * Checks a JSON text before it is parsed, in one pass without recursion (so
 * the check itself cannot overflow the stack, whatever the input): nesting
 * deeper than `maxDepth`, or a NUL character escaped inside a string (a raw
 * NUL is already invalid JSON). Returns the error to answer with, or
 * undefined. It does not validate the text: the parser still does.
 */
export function checkJsonBody(text: string, maxDepth: number = jsonMaxDepth): JsonBodyError | undefined {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === quote) {
      for (i += 1; i < text.length; i++) {
        const s = text.charCodeAt(i)
        if (s === quote) break
        if (s === backslash) {
          if (text[i + 1] === 'u' && text.slice(i + 2, i + 6) === '0000') {
            return new JsonBodyError(JsonBodyErrorCode.invalidCharacters, 'a string in the body contains a NUL character')
          }
          i += 1
        }
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1
      if (depth > maxDepth) return new JsonBodyError(JsonBodyErrorCode.tooDeep, `the body is nested deeper than ${maxDepth} levels`)
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1
    }
  }
  return undefined
}
