import t from 'tap'
import { Type } from 'typebox'
import { boolean, ConfigError, ConfigErrorCode, configProblem, duration, hostPortList, isAddressOrCidr, key, list, loadEnv, notTogether, oneOf, optional, port, text, url } from '../src/index.ts'

const schema = Type.Object({
  PORT: port({ default: 3000, description: 'Listen port.' }),
  MODE: oneOf(['a', 'b'], { default: 'a', description: 'Mode.' }),
  TTL: duration({ unit: 'seconds', default: 60, minimum: 10, description: 'Lifetime.' }),
  SECURE: boolean({ default: true, description: 'Secure.' }),
  PROXIES: list({ default: '', item: { expects: 'an IP address or CIDR', test: isAddressOrCidr }, description: 'Proxies.' }),
  NODES: optional(hostPortList({ description: 'Seed nodes.' })),
  TOKEN: optional(text({ minLength: 8, secret: true, description: 'Token.' })),
  KEY: optional(key({ bytes: 32, description: 'Key.' })),
  UPSTREAM: url({ default: 'http://127.0.0.1:1', description: 'Upstream.' }),
  NAME: text({ description: 'Required name.' }),
})

const errorsOf = (env: Record<string, string>, options = {}) => {
  try {
    loadEnv(schema, env, options)
  } catch (error) {
    if (error instanceof ConfigError) return error.errors
    throw error
  }
  return []
}

t.test('defaults apply, strings are coerced and decoded, and the result is frozen', async (t) => {
  const config = loadEnv(schema, { NAME: 'x', PORT: '0', SECURE: 'No', PROXIES: '10.0.0.0/8, ::1', NODES: 'redis-1:7000,[::1]:7001', KEY: 'a'.repeat(64) })
  t.equal(config.PORT, 0)
  t.equal(config.MODE, 'a')
  t.equal(config.TTL, 60)
  t.equal(config.SECURE, false)
  t.same(config.PROXIES, ['10.0.0.0/8', '::1'])
  t.same(config.NODES, [
    { host: 'redis-1', port: 7000 },
    { host: '::1', port: 7001 },
  ])
  t.equal(config.KEY?.length, 32)
  t.equal(config.TOKEN, undefined)
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.PROXIES))
})

t.test('every bad variable is reported at once with its code, and a secret is never echoed', async (t) => {
  const errors = errorsOf({ PORT: '1.5', MODE: 'c', TTL: '5', SECURE: 'maybe', PROXIES: 'true,10.0.0.1', NODES: 'redis', TOKEN: 'short-x', KEY: 'abc', UPSTREAM: 'ftp://x' })
  t.same(
    errors.map((e) => e.variable),
    ['PORT', 'MODE', 'TTL', 'SECURE', 'PROXIES', 'NODES', 'TOKEN', 'KEY', 'UPSTREAM', 'NAME'],
  )
  t.same(
    errors.find((e) => e.variable === 'NAME'),
    { variable: 'NAME', code: ConfigErrorCode.missing, message: 'is required' },
  )
  t.equal(errors.find((e) => e.variable === 'PORT')?.message, 'must be an integer from 0 to 65535')
  t.equal(errors.find((e) => e.variable === 'PROXIES')?.message, '"true" is not an IP address or CIDR')
  t.equal(errors.find((e) => e.variable === 'TOKEN')?.message, 'must be at least 8 characters')
  t.notMatch(JSON.stringify(errors), /short-x|abc/)
  t.ok(errors.filter((e) => e.variable !== 'NAME').every((e) => e.code === ConfigErrorCode.invalid))
})

t.test('an empty variable is unset unless the service says otherwise', async (t) => {
  t.equal(loadEnv(schema, { NAME: 'x', PORT: '' }).PORT, 3000)
  t.same(
    errorsOf({ NAME: '' }, { emptyIsUnset: false }).map((e) => e.variable),
    ['NAME'],
  )
})

t.test('rules see valid variables only, and unsupported variables are refused', async (t) => {
  const rules = [(v: { TTL: number; PORT: number }) => (v.TTL > v.PORT ? configProblem('TTL', 'must not exceed PORT', ConfigErrorCode.conflict) : undefined)]
  t.same(errorsOf({ NAME: 'x', TTL: '100', PORT: '20' }, { rules }), [{ variable: 'TTL', code: 'ERR_CONFIG_CONFLICT', message: 'must not exceed PORT' }])
  t.same(
    errorsOf({ NAME: 'x', TTL: '100', PORT: 'x' }, { rules }).map((e) => e.variable),
    ['PORT'],
    'the rule reading a bad PORT is skipped',
  )
  t.same(errorsOf({ NAME: 'x', TOKEN: 'long-enough', NODES: 'a:1' }, { rules: [notTogether('TOKEN', 'NODES', 'why')] }), [{ variable: 'TOKEN', code: 'ERR_CONFIG_CONFLICT', message: 'must not be set together with NODES (why)' }])
  t.same(errorsOf({ NAME: 'x', OLD: '1' }, { unsupported: { OLD: 'not supported: use NAME' } }), [{ variable: 'OLD', code: 'ERR_CONFIG_UNSUPPORTED', message: 'not supported: use NAME' }])
})

t.test('ConfigError names each variable in its message', async (t) => {
  const error = t.throws(() => loadEnv(schema, { PORT: 'x' })) as ConfigError
  t.equal(error.code, 'ERR_CONFIG_INVALID')
  t.equal(error.message, 'invalid configuration: PORT must be an integer from 0 to 65535; NAME is required')
})
