import type { EnvSpec } from './env-reader.ts'

function defaultOf(variable: { parse(raw: string | undefined): unknown }): string {
  try {
    const value = variable.parse(undefined)
    if (value === undefined) return '(unset)'
    if (Array.isArray(value)) return value.length ? `\`${value.join(',')}\`` : '(empty)'
    return `\`${String(value)}\``
  } catch {
    return '(required)'
  }
}

/** The Markdown table of docs/configuration.md, rendered from the config description itself. */
export function renderEnvTable(spec: EnvSpec): string {
  const rows = Object.entries(spec).map(([name, variable]) => `| \`${name}\` | ${defaultOf(variable)} | ${variable.doc.replace(/\|/g, '\\|')} |`)
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n')
}
