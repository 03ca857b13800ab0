import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { envSpec } from '../src/config.ts'
import { renderEnvTable } from '../src/config/env-docs.ts'

t.test('docs/configuration.md lists every token-service variable exactly as config.ts describes it', async (t) => {
  const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8')
  t.ok(docs.includes(renderEnvTable(envSpec)), 'regenerate with: node scripts/config-docs.ts')
  for (const name of Object.keys(envSpec)) t.match(docs, `\`${name}\``)
})
