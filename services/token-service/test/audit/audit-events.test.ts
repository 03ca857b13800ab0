// A real session through a real token-service process (and a real BetterAuth): every
// user-facing auth event is one JSON line of the AuditEvent schema, with no token or secret.
import t from 'tap'
import { Compile } from 'typebox/compile'
import { AuditEvent } from '@todo-auth/contracts'
import { admin, exchange, refresh, repeatedExchangesEnv, revoke, spawnTokenService, startIdentity, type TokenReply } from '@todo-auth/testkit'

const checkEvent = Compile(AuditEvent)
/** What pino adds to every line; the rest of an audit line is the event. */
const loggerFields = ['level', 'time', 'pid', 'hostname', 'msg']

t.test('sign-in, refresh, reuse, revoke, sign-out-everywhere and admin calls are audit lines of one schema', async (t) => {
  const identity = await startIdentity()
  t.teardown(() => identity.close())
  // Five sign-ins within a second get byte-identical BetterAuth JWTs: lift the replay limit (tested elsewhere).
  const service = await spawnTokenService({ identity, admin: true, env: { REFRESH_REUSE_GRACE: '0', ...repeatedExchangesEnv } })
  t.teardown(() => service.stop())
  const base = service.url
  const user = await identity.signUp()
  const secrets: string[] = [user.jwt, user.password, user.cookie.split('=')[1]!, service.adminToken!]
  const keep = (reply: TokenReply) => {
    for (const token of [reply.body.access_token, reply.body.refresh_token]) if (token) secrets.push(token)
    return reply
  }

  const first = keep(await exchange(base, user.jwt))
  t.equal(first.status, 200, 'sign-in')
  const second = keep(await refresh(base, first.body.refresh_token!))
  t.equal(second.status, 200, 'refresh')
  t.equal((await refresh(base, first.body.refresh_token!)).status, 400, 'the spent token again: reuse, the session is ended')
  t.equal((await exchange(base, 'not-a-jwt')).status, 400, 'a failed sign-in')

  const third = keep(await exchange(base, await identity.getJwt(user.cookie)))
  t.equal((await revoke(base, third.body.refresh_token!)).status, 200, 'revoke')
  t.equal((await revoke(base, third.body.refresh_token!)).status, 200, 'revoke again: changes nothing')

  const fourth = keep(await exchange(base, await identity.getJwt(user.cookie)))
  keep(await exchange(base, await identity.getJwt(user.cookie)))
  const fifth = keep(await exchange(base, await identity.getJwt(user.cookie)))
  const listed = (await (await fetch(`${base}/sessions`, { headers: { authorization: `Bearer ${fourth.body.access_token}` } })).json()) as { id: string; current: boolean }[]
  const other = listed.find((session) => !session.current)!
  const endOne = (id: string) => fetch(`${base}/sessions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${fourth.body.access_token}` } })
  t.equal((await endOne(other.id)).status, 204, 'one session ended from the list')
  t.equal((await endOne(other.id)).status, 404, 'and again: not found')
  keep(fifth)
  const bearer = { authorization: `Bearer ${fourth.body.access_token}`, 'x-request-id': 'sign-out-all-1' }
  t.equal((await fetch(`${base}/sessions`, { method: 'DELETE', headers: bearer })).status, 204, 'sign out everywhere')
  t.equal((await admin(service.adminUrl!, service.adminToken!, 'GET', '/admin/keys')).status, 200, 'an admin call')
  t.equal((await admin(service.adminUrl!, 'wrong-token', 'GET', '/admin/keys')).status, 401, 'a refused admin call')
  t.equal(await service.stop(), 0)

  const audit = service.lines.flatMap((line) => {
    if (!line.includes('"event":"audit"')) return []
    return [JSON.parse(line) as Record<string, unknown>]
  })
  for (const line of audit) {
    const event = Object.fromEntries(Object.entries(line).filter(([key]) => !loggerFields.includes(key)))
    t.ok(checkEvent.Check(event), `${String(event.type)}/${String(event.outcome)} matches the AuditEvent schema: ${JSON.stringify([...checkEvent.Errors(event)].slice(0, 2))}`)
  }
  const find = (match: Record<string, unknown>) => audit.filter((e) => Object.entries(match).every(([k, v]) => e[k] === v))
  const sub = user.userId
  t.equal(find({ type: 'token_exchange', outcome: 'success', sub, client_id: 'cli' }).length, 5, 'five sign-ins')
  t.match(find({ type: 'token_exchange', outcome: 'failure' }), [{ cause: 'invalid_grant', client_id: 'cli' }], 'the failed sign-in, with its cause')
  t.equal(find({ type: 'token_refresh', outcome: 'success', sub }).length, 1, 'one refresh')
  const [reuse] = find({ type: 'refresh_token_reuse' })
  t.match(reuse, { outcome: 'failure', cause: 'spent_token_presented', sub, client_id: 'cli', level: 40 }, 'the reuse, a warning naming the user')
  t.equal(reuse?.sid, find({ type: 'token_exchange', outcome: 'success' })[0]?.sid, 'and the ended session')
  t.match(find({ type: 'token_revoke' }), [{ outcome: 'success' }, { outcome: 'failure', cause: 'unknown_token' }], 'revoke, then one that changed nothing')
  t.match(
    find({ type: 'session_revoke' }),
    [
      { outcome: 'success', sub, sid: other.id },
      { outcome: 'failure', cause: 'session_not_found', sub },
    ],
    'a session ended from the list, then a miss',
  )
  t.match(find({ type: 'sign_out_everywhere' }), [{ outcome: 'success', sub, count: 2, request_id: 'sign-out-all-1' }], 'sign-out-everywhere, with the caller’s request id')
  t.match(
    find({ type: 'admin', action: 'GET /admin/keys' }),
    [
      { outcome: 'success', status: 200 },
      { outcome: 'failure', status: 401, cause: 'wrong_token' },
    ],
    'admin calls',
  )
  t.ok(
    audit.every((e) => typeof e.request_id === 'string' && e.ip === '127.0.0.1'),
    'every event names its request and the client address',
  )

  const text = audit.map((e) => JSON.stringify(e)).join('\n')
  for (const secret of secrets) t.notOk(text.includes(secret), 'no token, cookie, password or admin token in an audit line')
})
