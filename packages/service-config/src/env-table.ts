import { IsOptional, type TObject, type TSchema } from 'typebox'
import { expects } from './load-env.ts'
import type { VariableMeta } from './variables.ts'

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function defaultOf(schema: TSchema): string {
  const info = schema as VariableMeta
  if (info.default === undefined) return IsOptional(schema) ? '(unset)' : '(required)'
  if (info.default === '') return '(empty)'
  return `\`${String(info.default)}\``
}

/**
 * The Markdown table of a service's variables for docs/configuration.md,
 * rendered from the schema itself: name, what a value must be, default, meaning
 * (with `secret` and an example where declared).
 */
export function renderEnvTable(schema: TObject): string {
  const rows = Object.entries(schema.properties as Record<string, TSchema>).map(([name, property]) => {
    const info = property as VariableMeta
    const type = `${expects(property)}${info.secret ? `; secret (or a file: \`${name}_FILE\`)` : ''}`
    const example = info.examples?.[0] === undefined ? '' : ` Example: \`${info.examples[0]}\`.`
    return `| \`${name}\` | ${cell(type)} | ${defaultOf(property)} | ${cell(`${info.description ?? ''}${example}`)} |`
  })
  return ['| variable | value | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}
