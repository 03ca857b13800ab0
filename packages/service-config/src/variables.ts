import { Type, type TSchema } from 'typebox'
import { parseHostPort, isOrigin, isUrl, type HostPort, type Validator } from './validators.ts'

/**
 * What every variable declares besides its type. The keys end up in the
 * TypeBox schema itself (JSON Schema `description`, `default`, `examples`, plus
 * `secret` and `expects`), where loadEnv and renderEnvTable read them.
 */
export interface VariableOptions {
  /** One or two sentences for docs/configuration.md. */
  readonly description: string
  /** The value never appears in an error message or in the docs. */
  readonly secret?: boolean
  readonly example?: string
}

/** The schema keys of a variable; `expects` says in words what a good value is ("an integer from 0 to 65535"). */
export type VariableMeta = {
  readonly description?: string
  readonly default?: unknown
  readonly secret?: boolean
  readonly examples?: readonly string[]
  readonly expects?: string
}

function meta(options: VariableOptions & { default?: unknown }, expects: string): VariableMeta {
  return {
    description: options.description,
    expects,
    ...(options.default === undefined ? {} : { default: options.default }),
    ...(options.secret ? { secret: true } : {}),
    ...(options.example === undefined ? {} : { examples: [options.example] }),
  }
}

/** An unset variable without a default is reported missing, unless its schema is wrapped in optional(). */
export const optional = <T extends TSchema>(schema: T) => Type.Optional(schema)

export interface TextOptions extends VariableOptions {
  readonly default?: string
  readonly minLength?: number
  /** Refuse leading and trailing whitespace (a pasted value with a stray space). */
  readonly trimmed?: boolean
}

/** A string, non-empty. */
export function text(options: TextOptions) {
  const minLength = options.minLength ?? 1
  const expects = options.trimmed ? 'a non-empty value without surrounding whitespace' : minLength > 1 ? `at least ${minLength} characters` : 'a non-empty string'
  return Type.String({ ...meta(options, expects), minLength, ...(options.trimmed ? { pattern: '^\\S(.*\\S)?$' } : {}) })
}

/** A string checked by a validator (see validators.ts). */
export function checked(validator: Validator, options: VariableOptions & { default?: string }) {
  return Type.Refine(
    Type.String(meta(options, validator.expects)),
    (value) => validator.test(value),
    () => `must be ${validator.expects}`,
  )
}

/** An absolute URL of one of `protocols` (default http: and https:). */
export function url(options: VariableOptions & { default?: string; protocols?: readonly string[] }) {
  const protocols = options.protocols ?? ['http:', 'https:']
  const names = protocols.map((p) => p.replace(/:$/, '')).join(' or ')
  return checked({ expects: `an absolute ${names} URL`, test: (value) => isUrl(value, protocols) }, options)
}

export interface IntegerOptions extends VariableOptions {
  readonly default?: number
  readonly minimum?: number
  readonly maximum?: number
  /** Named in the docs and messages: `seconds`, `milliseconds`, `bytes`. */
  readonly unit?: string
}

/** A decimal integer (no fraction, no exponent), within the bounds. */
export function integer(options: IntegerOptions) {
  const { minimum, maximum, unit } = options
  const range = minimum !== undefined && maximum !== undefined ? ` from ${minimum} to ${maximum}` : minimum !== undefined ? ` ≥ ${minimum}` : maximum !== undefined ? ` ≤ ${maximum}` : ''
  const expects = `an integer${range}${unit ? ` (${unit})` : ''}`
  return Type.Integer({ ...meta(options, expects), ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }) })
}

/** A TCP port; 0 lets the system pick a free one. */
export const port = (options: VariableOptions & { default?: number }) => integer({ ...options, minimum: 0, maximum: 65535 })

/** A duration as a whole number of `unit`s (today's variables are whole seconds or milliseconds). */
export const duration = (options: IntegerOptions & { unit: 'seconds' | 'milliseconds' }) => integer(options)

/** `true`/`1`/`yes` or `false`/`0`/`no`, any case. */
export function boolean(options: VariableOptions & { default?: boolean }) {
  return Type.Boolean(meta(options, 'true or false'))
}

/** One of the given words; the config type is their union. */
export function oneOf<const T extends string>(values: readonly T[], options: VariableOptions & { default?: NoInfer<T> }) {
  return Type.Unsafe<T>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      meta(options, `one of ${values.join(', ')}`),
    ),
  )
}

export interface ListOptions extends VariableOptions {
  /** The default as it would be written in the environment (`a,b`; `''` for none). */
  readonly default?: string
  readonly item?: Validator
  readonly minItems?: number
  /** A check of the whole list; returns the message of what is wrong. */
  readonly check?: (items: readonly string[]) => string | undefined
}

const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

function listProblem(options: ListOptions, items: readonly string[]): string | undefined {
  const minItems = options.minItems ?? 0
  if (items.length < minItems) return `must list at least ${minItems} ${minItems === 1 ? 'entry' : 'entries'}`
  const bad = options.item ? items.filter((entry) => !options.item!.test(entry)) : []
  if (bad.length > 0) {
    if (options.secret) return `has an entry that is not ${options.item!.expects}`
    return `${bad.map((entry) => JSON.stringify(entry)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not ${options.item!.expects}`
  }
  return options.check?.(items)
}

/** A comma-separated list (blanks around entries ignored, empty entries dropped); the config holds the array. */
export function list(options: ListOptions) {
  const expects = `a comma-separated list${options.item ? ` of entries each ${options.item.expects}` : ''}`
  const checkedString = Type.Refine(
    Type.String(meta(options, expects)),
    (value) => listProblem(options, splitList(value)) === undefined,
    (value) => listProblem(options, splitList(value)) ?? 'is not a valid list',
  )
  return Type.Decode(checkedString, (value): readonly string[] => Object.freeze(splitList(value)))
}

const hostPort: Validator = { expects: 'host:port', test: (entry) => parseHostPort(entry) !== undefined }

/** A comma-separated list of `host:port` (`[ipv6]:port`); the config holds `{ host, port }` entries. */
export function hostPortList(options: Omit<ListOptions, 'item'>) {
  const entries = list({ ...options, item: hostPort, minItems: options.minItems ?? 1 })
  return Type.Decode(entries, (items): readonly HostPort[] => Object.freeze(items.map((entry) => Object.freeze(parseHostPort(entry)!))))
}

/**
 * `bytes` random bytes, written as hex or base64url (standard base64 and `=`
 * padding accepted); the config holds the Buffer. Always a secret.
 */
export function key(options: Omit<VariableOptions, 'secret'> & { bytes: number }) {
  const { bytes } = options
  const expects = `${bytes} random bytes as ${bytes * 2} hex or ${Math.ceil((bytes * 4) / 3)} base64url characters`
  const checkedString = Type.Refine(
    Type.String(meta({ ...options, secret: true }, expects)),
    (value) => decodeKey(value, bytes) !== undefined,
    () => `must be ${expects}`,
  )
  return Type.Decode(checkedString, (value): Buffer => decodeKey(value, bytes)!)
}

function decodeKey(raw: string, bytes: number): Buffer | undefined {
  const value = raw.trim()
  if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) return Buffer.from(value, 'hex')
  const unpadded = value.replace(/=+$/, '')
  if (unpadded.length !== Math.ceil((bytes * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(unpadded.replace(/\+/g, '-').replace(/\//g, '_'))) return undefined
  if (/[+/]/.test(unpadded) && /[-_]/.test(unpadded)) return undefined
  const decoded = Buffer.from(unpadded.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url')
  return decoded.length === bytes ? decoded : undefined
}

const originOrWildcard: Validator = { expects: 'an origin (`scheme://host[:port]`, no path)', test: (entry) => entry === '*' || isOrigin(entry) }

/**
 * `CORS_ORIGINS`: the exact origins allowed to call a service cross-origin;
 * empty turns CORS off. `*` is refused: every allowed origin is named.
 */
export function corsOrigins(options: { readonly description: string }) {
  return list({
    default: '',
    item: originOrWildcard,
    check: (items) => (items.includes('*') ? '`*` is refused: list every allowed origin explicitly' : undefined),
    example: 'https://app.example.com,https://admin.example.com',
    description: options.description,
  })
}
