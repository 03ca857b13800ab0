import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Type } from 'typebox'
import { ConfigError, ConfigErrorCode, key, loadEnv, optional, renderEnvTable, text } from '../src/index.ts'

const schema = Type.Object({
  TOKEN: optional(text({ minLength: 8, secret: true, description: 'Token.' })),
  KEY: optional(key({ bytes: 32, description: 'Key.' })),
  PASSWORD: text({ secret: true, description: 'Required secret.' }),
  NAME: optional(text({ description: 'Not a secret.' })),
})

const dir = mkdtempSync(join(tmpdir(), 'service-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}
const errorsOf = (env: Record<string, string>) => {
  try {
    loadEnv(schema, env)
  } catch (error) {
    if (error instanceof ConfigError) return error.errors
    throw error
  }
  return []
}

t.test('every secret may come from <NAME>_FILE, one trailing newline trimmed', async (t) => {
  const hexKey = 'ab'.repeat(32)
  const config = loadEnv(schema, {
    TOKEN_FILE: file('token', 'token-from-file\n'),
    KEY_FILE: file('key', `${hexKey}\r\n`),
    PASSWORD_FILE: file('password', 'p@ss word  \n\n'),
  })
  t.equal(config.TOKEN, 'token-from-file')
  t.equal(config.KEY?.toString('hex'), hexKey, 'a key() variable is a secret too')
  t.equal(config.PASSWORD, 'p@ss word  \n', 'only one trailing newline goes; the rest is the value')
  t.same(loadEnv(schema, { PASSWORD: 'plain' }).PASSWORD, 'plain', 'the plain variable still works')
  t.same(loadEnv(schema, { PASSWORD: 'plain', NAME_FILE: '/nonexistent' }).NAME, undefined, 'a non-secret has no _FILE twin')
})

t.test('both set is a conflict, and a bad file is named without its content', async (t) => {
  const both = errorsOf({ PASSWORD: 'x', PASSWORD_FILE: file('p', 'y') })
  t.same(both, [{ variable: 'PASSWORD', code: ConfigErrorCode.conflict, message: 'conflicts with PASSWORD_FILE: set one of them' }])

  const missing = errorsOf({ PASSWORD_FILE: join(dir, 'nope') })
  t.same(
    missing.map((e) => [e.variable, e.code]),
    [['PASSWORD_FILE', ConfigErrorCode.invalid]],
  )
  t.match(missing[0]?.message, /cannot be read \(.*nope: ENOENT\)/)

  t.match(errorsOf({ PASSWORD_FILE: dir })[0]?.message, /EISDIR/, 'a directory')
  t.match(errorsOf({ PASSWORD_FILE: file('empty', '\n') })[0]?.message, /names an empty file/)

  const bad = errorsOf({ PASSWORD: 'x', TOKEN_FILE: file('short', 'short-secret-7\n'.slice(0, 6)) })
  t.same(
    bad.map((e) => e.variable),
    ['TOKEN'],
    'a file value is validated like the variable',
  )
  t.notMatch(JSON.stringify(bad), 'short-')
})

t.test('the docs table names the _FILE twin of every secret', async (t) => {
  const table = renderEnvTable(schema)
  t.match(table, '| `TOKEN` | at least 8 characters; secret (or a file: `TOKEN_FILE`) |')
  t.notMatch(table, 'NAME_FILE')
})
