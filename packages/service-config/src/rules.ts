import { ConfigErrorCode, configProblem } from './config-error.ts'
import type { ConfigRule } from './load-env.ts'

/** A rule: `variable` and `other` exclude each other; the problem (ERR_CONFIG_CONFLICT) is reported on `variable`. */
export function notTogether<V>(variable: keyof V & string, other: keyof V & string, reason: string): ConfigRule<V> {
  return (values) => (values[variable] !== undefined && values[other] !== undefined ? configProblem(variable, `must not be set together with ${other} (${reason})`, ConfigErrorCode.conflict) : undefined)
}
