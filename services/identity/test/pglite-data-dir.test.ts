import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startIdentity } from '@todo-auth/testkit'
import { randomSecret } from './helpers.ts'

t.test('PGLITE_DATA_DIR keeps users and the signing key across restarts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'identity-pglite-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const env = { PGLITE_DATA_DIR: dir, BETTER_AUTH_SECRET: randomSecret() }

  const first = await startIdentity({ embedded: true, env })
  const user = await first.signUp()
  const keysBefore = await (await fetch(first.jwksUrl)).json()
  await first.close()

  const second = await startIdentity({ embedded: true, env })
  t.teardown(() => second.close())
  t.same(await (await fetch(second.jwksUrl)).json(), keysBefore, 'the same key set, no new key')
  const signIn = await fetch(`${second.url}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  })
  t.equal(signIn.status, 200, 'the user signed up before the restart signs in')
})
