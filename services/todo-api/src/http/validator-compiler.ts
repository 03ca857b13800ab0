import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'

const integerText = /^-?\d{1,15}$/

/**
 * Converts query-string and path values by the declared type, strictly: an integer only from a
 * plain decimal ("1.5", "1e2", "0x10", " 10" stay strings and fail), a boolean only from
 * "true"/"false". A repeated parameter (an array) is never converted, so it fails (R56).
 */
function convertStrict(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties
  if (properties === undefined || typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  for (const [name, raw] of Object.entries(out)) {
    if (typeof raw !== 'string' || !Object.hasOwn(properties, name)) continue
    const type = properties[name]!.type
    if (type === 'integer' && integerText.test(raw)) out[name] = Number(raw)
    else if (type === 'boolean' && (raw === 'true' || raw === 'false')) out[name] = raw === 'true'
  }
  return out
}

/**
 * TypeBox validation for every route. Bodies are checked as sent (no coercion: `"1"` is not a
 * number), unknown members are an error rather than silently removed, and querystrings/params
 * are converted only by {@link convertStrict}.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema)
  const convert = httpPart === 'querystring' || httpPart === 'params'
  return (value) => {
    const candidate = convert ? convertStrict(schema, value) : value
    if (validator.Check(candidate)) return { value: candidate }
    return { error: validator.Errors(candidate).slice(0, 5) as never }
  }
}
