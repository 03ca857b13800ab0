// Rewrites the token-service table in docs/configuration.md from the config
// description (services/token-service/src/config.ts) so the docs cannot drift.
// services/token-service/test/config-docs.test.ts fails when they have.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { envSpec } from '../services/token-service/src/config.ts'
import { renderEnvTable } from '../services/token-service/src/config/env-docs.ts'

const file = join(import.meta.dirname, '..', 'docs', 'configuration.md')
const start = '<!-- token-service:env:start -->'
const end = '<!-- token-service:env:end -->'
const text = readFileSync(file, 'utf8')
const from = text.indexOf(start)
const to = text.indexOf(end)
if (from < 0 || to < from) throw new Error(`markers ${start} … ${end} not found in docs/configuration.md`)
writeFileSync(file, `${text.slice(0, from + start.length)}\n${renderEnvTable(envSpec)}\n${text.slice(to)}`)
process.stdout.write('docs/configuration.md: token-service table updated\n')
