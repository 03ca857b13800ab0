import t from 'tap'
import { Type } from 'typebox'
import { configErrorLine, ConfigError, list, optional, port, renderEnvTable, text } from '../src/index.ts'

t.test('the docs table is rendered from the schema: value, default, meaning, secret and example', async (t) => {
  const schema = Type.Object({
    PORT: port({ default: 3000, description: 'Listen port | public.' }),
    TOKEN: optional(text({ secret: true, description: 'Admin token.', example: 'openssl rand -hex 32' })),
    NAME: text({ description: 'Required.' }),
    LIST: list({ default: '', description: 'A list.' }),
  })
  t.equal(
    renderEnvTable(schema),
    [
      '| variable | value | default | meaning |',
      '|---|---|---|---|',
      '| `PORT` | an integer from 0 to 65535 | `3000` | Listen port \\| public. |',
      '| `TOKEN` | a non-empty string; secret (or a file: `TOKEN_FILE`) | (unset) | Admin token. Example: `openssl rand -hex 32`. |',
      '| `NAME` | a non-empty string | (required) | Required. |',
      '| `LIST` | a comma-separated list | (empty) | A list. |',
    ].join('\n'),
  )
})

t.test('the config failure line is one JSON object naming the service, the code and each variable', async (t) => {
  const line = configErrorLine('svc', new ConfigError([{ variable: 'PORT', code: 'ERR_CONFIG_INVALID', message: 'must be an integer' }]))
  t.same(JSON.parse(line), { event: 'config_error', service: 'svc', code: 'ERR_CONFIG_INVALID', errors: [{ variable: 'PORT', code: 'ERR_CONFIG_INVALID', message: 'must be an integer' }] })
  t.notMatch(line, /\n/)
})
