import t from 'tap'
import { startIdentity } from '@todo-auth/testkit'
import { build, testClock } from '../helpers/build.ts'
import { exchange, identityEnv } from '../grants/helpers.ts'

// GET /sessions is paged (issue 17): `limit`, an `after` cursor in `Link: rel="next"`, the body still
// the plain array; and MAX_SESSIONS_PER_USER caps what there is to page through.
const identity = await startIdentity()
t.teardown(() => identity.close())

t.test('GET /sessions pages with limit and a Link rel="next" cursor, newest first, no session twice', async (t) => {
  const clock = testClock()
  const app = await build(t, { ...identityEnv(identity), RATE_LIMIT_MAX: '100000', SUBJECT_TOKEN_MAX_EXCHANGES: '100' }, { deps: { clock } })
  const user = await identity.signUp()
  let token = ''
  // Pairs share a created_at: the cursor must break ties by id.
  for (let i = 0; i < 7; i++) {
    token = ((await exchange(app.publicApp, user.jwt)).json() as { access_token: string }).access_token
    if (i % 2 === 1) clock.advance(1000)
  }
  const seen: string[] = []
  let url: string | undefined = '/sessions?limit=3'
  const sizes: number[] = []
  while (url) {
    const response = await app.publicApp.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
    t.equal(response.statusCode, 200)
    const page = response.json() as { id: string; created_at: string }[]
    sizes.push(page.length)
    seen.push(...page.map((s) => s.id))
    const link = response.headers.link as string | undefined
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined
  }
  t.same(sizes, [3, 3, 1], 'all seven sessions over three pages')
  t.equal(new Set(seen).size, 7, 'no session on two pages')
  const all = (await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: { authorization: `Bearer ${token}` } })).json() as { id: string }[]
  t.same(
    all.map((s) => s.id),
    seen,
    'pages concatenate to the unpaged (default limit 50) list, in order',
  )
  const bad = await app.publicApp.inject({ method: 'GET', url: '/sessions?after=bm90LWEtY3Vyc29y', headers: { authorization: `Bearer ${token}` } })
  t.equal(bad.statusCode, 400, 'a forged cursor is a 400')
  t.equal(bad.json().code, 'INVALID_CURSOR')
  const tooBig = await app.publicApp.inject({ method: 'GET', url: '/sessions?limit=101', headers: { authorization: `Bearer ${token}` } })
  t.equal(tooBig.statusCode, 400, 'limit above 100 is a 400')
})

t.test('MAX_SESSIONS_PER_USER: exchanges past the cap end the oldest sessions', async (t) => {
  // BetterAuth hands out the identical JWT within one second: allow the six exchanges of it.
  const app = await build(t, { ...identityEnv(identity), RATE_LIMIT_MAX: '100000', MAX_SESSIONS_PER_USER: '4', SUBJECT_TOKEN_MAX_EXCHANGES: '6' })
  const user = await identity.signUp()
  const made: { access_token: string; refresh_token: string }[] = []
  for (let i = 0; i < 6; i++) made.push((await exchange(app.publicApp, user.jwt)).json() as { access_token: string; refresh_token: string })
  const listed = (await app.publicApp.inject({ method: 'GET', url: '/sessions', headers: { authorization: `Bearer ${made.at(-1)!.access_token}` } })).json() as unknown[]
  t.equal(listed.length, 4, 'four sessions after six exchanges')
})
