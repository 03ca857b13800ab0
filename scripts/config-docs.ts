// Rewrites each service's table in docs/configuration.md from its schema
// (services/*/src/config.ts) so the docs cannot drift;
// test/repo/config-docs.test.ts fails when they have.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderEnvTable } from '@todo-auth/service-config'
import { EnvSchema as identity } from '../services/identity/src/config.ts'
import { EnvSchema as todoApi } from '../services/todo-api/src/config.ts'
import { EnvSchema as tokenService } from '../services/token-service/src/config.ts'

export const serviceSchemas = { identity, 'token-service': tokenService, 'todo-api': todoApi } as const
export const configDocsFile = join(import.meta.dirname, '..', 'docs', 'configuration.md')

/** The text with every `<!-- <service>:env:start -->` … `<!-- <service>:env:end -->` block rendered anew. */
export function renderConfigDocs(text: string): string {
  let out = text
  for (const [service, schema] of Object.entries(serviceSchemas)) {
    const start = `<!-- ${service}:env:start -->`
    const end = `<!-- ${service}:env:end -->`
    const from = out.indexOf(start)
    const to = out.indexOf(end)
    if (from < 0 || to < from) throw new Error(`markers ${start} … ${end} not found in docs/configuration.md`)
    out = `${out.slice(0, from + start.length)}\n${renderEnvTable(schema)}\n${out.slice(to)}`
  }
  return out
}

if (import.meta.main) {
  writeFileSync(configDocsFile, renderConfigDocs(readFileSync(configDocsFile, 'utf8')))
  process.stdout.write(`docs/configuration.md: ${Object.keys(serviceSchemas).join(', ')} tables updated\n`)
}
