import t from 'tap'
import { checkJsonBody, JsonBodyError, jsonMaxDepth } from '../src/index.ts'

t.test('nesting up to the limit passes, one level more is ERR_JSON_TOO_DEEP', async (t) => {
  const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
  t.equal(checkJsonBody(nest(jsonMaxDepth)), undefined)
  t.equal(checkJsonBody(`{"a":${nest(jsonMaxDepth - 1)},"b":${nest(jsonMaxDepth - 1)}}`), undefined, 'siblings do not add up')
  const refused = checkJsonBody(nest(jsonMaxDepth + 1))
  t.ok(refused instanceof JsonBodyError)
  t.equal(refused?.code, 'ERR_JSON_TOO_DEEP')
  t.equal(refused?.statusCode, 400)
  t.equal(checkJsonBody('[[[]]]', 2)?.code, 'ERR_JSON_TOO_DEEP', 'the limit is a parameter')
  t.equal(checkJsonBody(nest(1_000_000))?.code, 'ERR_JSON_TOO_DEEP', 'a million levels: no recursion, no stack overflow')
})

t.test('brackets inside strings do not count', async (t) => {
  t.equal(checkJsonBody(JSON.stringify({ title: '['.repeat(1000) })), undefined)
  t.equal(checkJsonBody(JSON.stringify({ title: 'a "quoted" {[' })), undefined, 'an escaped quote does not end the string')
})

t.test('an escaped NUL in a string or a name is ERR_INVALID_CHARACTERS; other escapes are fine', async (t) => {
  t.equal(checkJsonBody(JSON.stringify({ name: 'a\u0000b' }))?.code, 'ERR_INVALID_CHARACTERS')
  t.equal(checkJsonBody(JSON.stringify({ 'k\u0000': 1 }))?.code, 'ERR_INVALID_CHARACTERS', 'in a member name')
  t.equal(checkJsonBody(JSON.stringify({ name: 'a\\u0000b' })), undefined, 'a backslash followed by the text u0000 is not a NUL')
  t.equal(checkJsonBody(JSON.stringify({ name: 'tab\there \u0001 é 😀' })), undefined)
})
