import t from 'tap'
import { build } from './helpers/build.ts'
import { generateKey, mint } from './helpers/tokens.ts'

t.test('keys already cached keep verifying while the JWKS endpoint is down', async (t) => {
  const built = await build(t)
  const headers = await built.auth()
  t.equal((await built.app.inject({ url: '/todos', headers })).statusCode, 200)
  t.equal(built.jwks.requests, 1)
  built.jwks.down = true
  for (let i = 0; i < 5; i++) {
    t.equal((await built.app.inject({ url: '/todos', headers: await built.auth() })).statusCode, 200, 'still served')
  }
  const stranger = await generateKey()
  const unknown = await built.app.inject({ url: '/todos', headers: { authorization: `Bearer ${await mint(stranger)}` } })
  t.equal(unknown.statusCode, 401, 'an unknown kid is invalid, not a 5xx, while keys are cached')
  t.equal(unknown.json().code, 'ERR_AUTH_INVALID_TOKEN')
})

t.test('with nothing cached and the JWKS endpoint down, valid-looking tokens get 503, never success', async (t) => {
  const built = await build(t)
  built.jwks.down = true
  const res = await built.app.inject({ method: 'POST', url: '/todos', headers: { ...(await built.auth()), 'content-type': 'application/json' }, payload: { title: 'x' } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'ERR_AUTH_UNAVAILABLE')
  t.equal(res.headers['retry-after'], '5')
  t.equal(await built.countTodos(), 0)
  const ready = await built.app.inject({ url: '/readyz' })
  t.equal(ready.json().checks.jwks, 'not_loaded')
})

t.test('garbage tokens are 401 even when the JWKS endpoint is down (no fetch needed to refuse them)', async (t) => {
  const built = await build(t)
  built.jwks.down = true
  const res = await built.app.inject({ url: '/todos', headers: { authorization: 'Bearer garbage' } })
  t.equal(res.statusCode, 401)
  t.equal(built.jwks.requests, 0)
})
