/**
 * A tiny typed environment reader: each variable is described once (parser,
 * default, documentation), the config type is derived from those descriptions,
 * and every bad variable is reported in one error.
 */
export interface EnvVar<T> {
  readonly doc: string
  /** `undefined` when the variable is unset or empty. */
  parse(raw: string | undefined): T
  /** Secrets never appear in error messages. */
  readonly secret?: boolean
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG'
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export type EnvSpec = Record<string, EnvVar<unknown>>
export type EnvValues<S extends EnvSpec> = { readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never }

export function readEnv<S extends EnvSpec>(spec: S, env: Record<string, string | undefined>): EnvValues<S> {
  const problems: string[] = []
  const out: Record<string, unknown> = {}
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name]
    try {
      out[name] = variable.parse(raw === '' ? undefined : raw)
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return out as EnvValues<S>
}

function required(name: string): never {
  throw new Error(`is required (${name})`)
}

export function str(doc: string, fallback?: string, opts: { secret?: boolean; minLength?: number } = {}): EnvVar<string> {
  return {
    doc,
    secret: opts.secret ?? false,
    parse(raw) {
      const value = raw ?? fallback
      if (value === undefined) return required('a string')
      if (opts.minLength !== undefined && value.length < opts.minLength) {
        throw new Error(`must be at least ${opts.minLength} characters`)
      }
      return value
    },
  }
}

export function optionalStr(doc: string, opts: { secret?: boolean } = {}): EnvVar<string | undefined> {
  return { doc, secret: opts.secret ?? false, parse: (raw) => raw }
}

export function int(doc: string, fallback: number, range: { min?: number; max?: number } = {}): EnvVar<number> {
  return {
    doc,
    parse(raw) {
      if (raw === undefined) return fallback
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got ${JSON.stringify(raw)}`)
      const value = Number(raw)
      if (range.min !== undefined && value < range.min) throw new Error(`must be ≥ ${range.min}`)
      if (range.max !== undefined && value > range.max) throw new Error(`must be ≤ ${range.max}`)
      return value
    },
  }
}

export function bool(doc: string, fallback: boolean): EnvVar<boolean> {
  return {
    doc,
    parse(raw) {
      if (raw === undefined) return fallback
      if (/^(true|1|yes)$/i.test(raw)) return true
      if (/^(false|0|no)$/i.test(raw)) return false
      throw new Error(`must be true or false, got ${JSON.stringify(raw)}`)
    },
  }
}

export function oneOf<const T extends string>(doc: string, values: readonly T[], fallback: T): EnvVar<T> {
  return {
    doc,
    parse(raw) {
      const value = raw ?? fallback
      if (!values.includes(value as T)) throw new Error(`must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`)
      return value as T
    },
  }
}

export function list(doc: string, fallback: readonly string[]): EnvVar<readonly string[]> {
  return {
    doc,
    parse(raw) {
      if (raw === undefined) return fallback
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    },
  }
}

export function url(doc: string, fallback?: string, protocols: readonly string[] = ['http:', 'https:']): EnvVar<string> {
  return {
    doc,
    parse(raw) {
      const value = raw ?? fallback
      if (value === undefined) return required('a URL')
      let parsed: URL
      try {
        parsed = new URL(value)
      } catch {
        throw new Error(`must be an absolute URL, got ${JSON.stringify(value)}`)
      }
      if (!protocols.includes(parsed.protocol)) throw new Error(`must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL`)
      return value
    },
  }
}

export function optionalUrl(doc: string, protocols?: readonly string[]): EnvVar<string | undefined> {
  const inner = url(doc, undefined, protocols)
  return { doc, parse: (raw) => (raw === undefined ? undefined : inner.parse(raw)) }
}

/** A 256-bit key given as 64 hex characters or 43 base64url characters. */
export function key256(doc: string): EnvVar<Buffer | undefined> {
  return {
    doc,
    secret: true,
    parse(raw) {
      if (raw === undefined) return undefined
      const value = raw.trim()
      let bytes: Buffer | undefined
      if (/^[0-9a-fA-F]{64}$/.test(value)) bytes = Buffer.from(value, 'hex')
      else if (/^[A-Za-z0-9_-]{43}=?$/.test(value) || /^[A-Za-z0-9+/]{43}=$/.test(value)) {
        bytes = Buffer.from(value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url')
      }
      if (bytes?.length !== 32) throw new Error('must be 32 random bytes as 64 hex or 43 base64url characters')
      return bytes
    },
  }
}
