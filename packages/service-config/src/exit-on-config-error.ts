import { ConfigError } from './config-error.ts'

/**
 * The exit code of a refused configuration: EX_CONFIG of sysexits.h, so a
 * supervisor can tell "fix the environment, restarting will not help" from a
 * crash (1).
 */
export const configExitCode = 78

/** The one stderr line of a refused configuration, the same in every service. */
export function configErrorLine(service: string, error: ConfigError): string {
  return JSON.stringify({ event: 'config_error', service, code: error.code, errors: error.errors })
}

/**
 * Runs `load` (a service's loadConfig); on a ConfigError writes configErrorLine
 * to stderr and exits with configExitCode. Any other error is rethrown.
 */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${configErrorLine(service, error)}\n`)
    process.exit(configExitCode)
  }
}
