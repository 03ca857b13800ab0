/** The codes a configuration problem carries; callers and operators switch on them. */
export const ConfigErrorCode = {
  /** A variable is set but its value is not acceptable. */
  invalid: 'ERR_CONFIG_INVALID',
  /** A required variable is unset (or required by another one that is set). */
  missing: 'ERR_CONFIG_MISSING',
  /** Variables that exclude each other are set together. */
  conflict: 'ERR_CONFIG_CONFLICT',
  /** A variable the service refuses to read (a library would read it behind the service's back). */
  unsupported: 'ERR_CONFIG_UNSUPPORTED',
} as const
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode]

/** One bad variable. `message` never contains the value of a secret. */
export interface ConfigProblem {
  readonly variable: string
  readonly code: ConfigErrorCode
  readonly message: string
}

/**
 * The configuration was refused. `code` is always ERR_CONFIG_INVALID (the
 * configuration as a whole); each entry of `errors` says which variable and why.
 */
export class ConfigError extends Error {
  readonly code = ConfigErrorCode.invalid
  readonly errors: readonly ConfigProblem[]
  constructor(errors: readonly ConfigProblem[]) {
    super(`invalid configuration: ${errors.map((e) => `${e.variable} ${e.message}`).join('; ')}`)
    this.name = 'ConfigError'
    this.errors = Object.freeze([...errors])
  }
}

/** A problem to return from a rule of loadEnv. */
export function configProblem(variable: string, message: string, code: ConfigErrorCode = ConfigErrorCode.invalid): ConfigProblem {
  return { variable, code, message }
}
