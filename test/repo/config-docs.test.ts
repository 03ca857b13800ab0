import t from 'tap'
import { readFileSync } from 'node:fs'
import { configDocsFile, renderConfigDocs, serviceSchemas } from '../../scripts/config-docs.ts'

t.test("docs/configuration.md lists every service's variables exactly as its schema describes them", async (t) => {
  const docs = readFileSync(configDocsFile, 'utf8')
  t.equal(renderConfigDocs(docs), docs, 'regenerate with: node scripts/config-docs.ts')
  for (const [service, schema] of Object.entries(serviceSchemas)) {
    const section = docs.slice(docs.indexOf(`## ${service}`))
    for (const name of Object.keys(schema.properties)) t.match(section, `| \`${name}\` |`, `${service}: ${name}`)
  }
})

t.test('docs/configuration.md states the one config failure format and its exit code', async (t) => {
  const docs = readFileSync(configDocsFile, 'utf8')
  t.match(docs, 'exit code 78')
  t.match(docs, '"event":"config_error"')
})
