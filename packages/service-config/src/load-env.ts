import { readFileSync } from 'node:fs'
import { IsOptional, type StaticDecode, type TObject, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { ConfigError, ConfigErrorCode, configProblem, type ConfigProblem } from './config-error.ts'
import type { VariableMeta } from './variables.ts'

/** The validated variables; the type is the schema's decoded type (lists are arrays, keys Buffers). */
export type EnvValues<S extends TObject> = Readonly<StaticDecode<S>>

/** A check across variables; returns what is wrong (or nothing). */
export type ConfigRule<V> = (values: V) => ConfigProblem | readonly ConfigProblem[] | undefined

export interface LoadEnvOptions<V> {
  /** `VAR=` counts as unset (default true: what compose files and shells produce for "no value"). */
  readonly emptyIsUnset?: boolean
  /** Variables outside the schema that must not be set, with the reason (`use X instead`). */
  readonly unsupported?: Readonly<Record<string, string>>
  /**
   * Checks across variables, run after every variable was read on its own. A
   * rule that reads a variable already reported bad is skipped, so one mistake
   * is reported once.
   */
  readonly rules?: readonly ConfigRule<V>[]
}

const skipRule = Symbol('reads a bad variable')

/**
 * Reads every variable of `schema` from `env`: strings are coerced (integers,
 * booleans), checked and decoded. Every bad variable is collected and thrown
 * as one ConfigError; a secret's value is never part of a message. Returns a
 * frozen object.
 */
export function loadEnv<S extends TObject>(schema: S, env: Readonly<Record<string, string | undefined>>, options: LoadEnvOptions<EnvValues<S>> = {}): EnvValues<S> {
  const values: Record<string, unknown> = {}
  const problems: ConfigProblem[] = []
  const bad = new Set<string>()
  const unset = (raw: string | undefined) => (raw === '' && options.emptyIsUnset !== false ? undefined : raw)
  for (const [variable, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const given = (property as VariableMeta).secret ? secretOrFile(variable, env, unset) : { raw: unset(env[variable]) }
    const result = 'problem' in given ? given : readVariable(variable, property, given.raw)
    if ('problem' in result) {
      problems.push(result.problem)
      bad.add(variable)
    } else if (result.value !== undefined) {
      values[variable] = result.value
    }
  }
  for (const [variable, reason] of Object.entries(options.unsupported ?? {})) {
    if (env[variable] !== undefined) problems.push(configProblem(variable, reason, ConfigErrorCode.unsupported))
  }
  // Reading a bad variable inside a rule throws skipRule: the rule cannot judge what was not read.
  const view = new Proxy(values, {
    get: (target, name) => {
      if (typeof name === 'string' && bad.has(name)) throw skipRule
      return target[name as string]
    },
  }) as EnvValues<S>
  for (const rule of options.rules ?? []) {
    let found: ReturnType<ConfigRule<EnvValues<S>>>
    try {
      found = rule(view)
    } catch (error) {
      if (error === skipRule) continue
      throw error
    }
    if (found !== undefined) problems.push(...(Array.isArray(found) ? found : [found as ConfigProblem]))
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(values) as EnvValues<S>
}

type Read = { value: unknown } | { problem: ConfigProblem }

/**
 * A secret comes from `<NAME>` or from the file named by `<NAME>_FILE` (Docker/Kubernetes
 * secrets), never both. The file's content counts, without one trailing newline; a file that
 * cannot be read is reported with its path and the reason, never with any content.
 */
function secretOrFile(variable: string, env: Readonly<Record<string, string | undefined>>, unset: (raw: string | undefined) => string | undefined): { raw: string | undefined } | { problem: ConfigProblem } {
  const fileVariable = `${variable}_FILE`
  const raw = unset(env[variable])
  const path = unset(env[fileVariable])
  if (path === undefined) return { raw }
  if (raw !== undefined) return { problem: configProblem(variable, `conflicts with ${fileVariable}: set one of them`, ConfigErrorCode.conflict) }
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (error) {
    return { problem: configProblem(fileVariable, `names a file that cannot be read (${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'})`) }
  }
  const value = content.replace(/\r?\n$/, '')
  if (value === '') return { problem: configProblem(fileVariable, `names an empty file (${path})`) }
  return { raw: value }
}

function readVariable(variable: string, schema: TSchema, raw: string | undefined): Read {
  const info = schema as VariableMeta
  let given: unknown = raw
  if (given === undefined) {
    if (info.default !== undefined) given = info.default
    else if (IsOptional(schema)) return { value: undefined }
    else return { problem: configProblem(variable, 'is required', ConfigErrorCode.missing) }
  }
  const value = typeof given === 'string' ? coerce(schema, given) : given
  if (!Value.Check(schema, value)) return { problem: configProblem(variable, messageOf(schema, value)) }
  return { value: Value.Decode(schema, value) }
}

/** Strict on purpose: `1.5` or `10s` is not an integer and `maybe` not a boolean (TypeBox's Convert would truncate or guess). */
function coerce(schema: TSchema, raw: string): unknown {
  const type = (schema as { type?: string }).type
  if (type === 'integer') return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw
  if (type === 'boolean') {
    if (/^(true|1|yes)$/i.test(raw)) return true
    if (/^(false|0|no)$/i.test(raw)) return false
  }
  return raw
}

/** What the variable expects; a refinement's own message only for non-secrets (it may quote the value). */
function messageOf(schema: TSchema, value: unknown): string {
  const info = schema as VariableMeta
  const expected = `must be ${expects(schema)}`
  if (info.secret) return expected
  const errors = Value.Errors(schema, value)
  if (errors.some((e) => e.keyword !== '~refine')) return expected
  return errors.find((e) => e.keyword === '~refine')?.message ?? expected
}

/** In words, what a good value of this schema is. */
export function expects(schema: TSchema): string {
  const info = schema as VariableMeta & { type?: string; anyOf?: { const?: unknown }[] }
  if (info.expects) return info.expects
  if (info.anyOf) return `one of ${info.anyOf.map((s) => String(s.const)).join(', ')}`
  if (info.type === 'integer') return 'an integer'
  if (info.type === 'boolean') return 'true or false'
  return 'a string'
}
