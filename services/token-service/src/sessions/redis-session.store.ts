import { hash } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { guarded, luaScript } from '../redis/lua-script.ts'
import type { RedisClient } from '../redis/redis-client.ts'
import { replicated, type Durability } from '../redis/replication.ts'
import { byNewest, isLive, type RevokeByTokenOutcome, type SessionRotateOutcome, type Session, type SessionStore, type SessionStorePolicy } from './session.store.ts'

/*
 * Key layout. Everything of one session shares the hash tag {sid}, so the
 * rotation script touches one Redis Cluster slot. The per-user index is
 * tagged by a hash of the user id (a fixed alphabet: nothing a user id
 * contains can reach a key or a pattern, R55) and is only ever touched by
 * single-key commands.
 *   <prefix>sess:{<sid>}          hash: the session record and its token state
 *   <prefix>sess:{<sid>}:spent    set: hashes of every spent token of the session
 *   <prefix>user:{<h(sub)>}:sess  sorted set: sid → absolute expiry (ms)
 * Every key carries a TTL: the session keys min(absolute end, idle limit), the index its longest session.
 */
/**
 * The session fields a rotation needs, in the order the rotation script's HMGET returns them (only
 * these, not HGETALL's every field and name: half the reply values to decode on each refresh).
 */
const sessionFields = ['sub', 'cid', 'scope', 'aud', 'email', 'roles', 'ca', 'lu', 'exp', 'ua'] as const
const sessionFieldList = sessionFields.map((field) => `'${field}'`).join(', ')

const rotateScript = luaScript(`
local s, spent = KEYS[1], KEYS[2]
local h, cid, now, grace, idle = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local f = redis.call('HMGET', s, 'cid', 'cur', 'prev', 'prev_at', 'lu', 'exp', 'sub', 'scope', 'aud')
if not f[1] then return {'invalid'} end
local exp, lu = tonumber(f[6]), tonumber(f[5])
if now >= exp or now - lu >= idle then
  redis.call('DEL', s, spent)
  return {'invalid'}
end
local state
if h == f[2] then state = 'current'
elseif h == f[3] then state = 'previous'
elseif redis.call('SISMEMBER', spent, h) == 1 then state = 'spent'
else return {'invalid'} end
if f[1] ~= cid then return {'wrong_client'} end
if state == 'previous' and now - tonumber(f[4]) >= grace then state = 'spent' end
if state == 'spent' then
  redis.call('DEL', s, spent)
  return {'reused', f[7]}
end
local held = {}
for token in string.gmatch(f[8] or '', '%S+') do held[token] = true end
for token in string.gmatch(ARGV[8], '%S+') do
  if not held[token] then return {'invalid_scope'} end
end
if ARGV[9] ~= '' and ARGV[9] ~= (f[9] or '') then return {'invalid_target'} end
local ttl = math.min(exp - now, idle)
if state == 'current' then
  redis.call('SADD', spent, h)
  redis.call('HSET', s, 'cur', ARGV[6], 'prev', h, 'prev_at', ARGV[3], 'prev_sealed', ARGV[7], 'lu', ARGV[3])
  redis.call('PEXPIRE', s, ttl)
  redis.call('PEXPIRE', spent, ttl)
  return {'rotated', '', unpack(redis.call('HMGET', s, ${sessionFieldList}))}
end
redis.call('HSET', s, 'lu', ARGV[3])
redis.call('PEXPIRE', s, ttl)
redis.call('PEXPIRE', spent, ttl)
return {'repeated', redis.call('HGET', s, 'prev_sealed'), unpack(redis.call('HMGET', s, ${sessionFieldList}))}
`)

const revokeByTokenScript = luaScript(`
local s, spent = KEYS[1], KEYS[2]
local h, cid, now, idle = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local f = redis.call('HMGET', s, 'cid', 'cur', 'lu', 'exp')
if not f[1] then return 'unknown' end
if now >= tonumber(f[4]) or now - tonumber(f[3]) >= idle then
  redis.call('DEL', s, spent)
  return 'unknown'
end
if f[2] ~= h and redis.call('SISMEMBER', spent, h) == 0 then return 'unknown' end
if f[1] ~= cid then return 'wrong_client' end
redis.call('DEL', s, spent)
return 'revoked'
`)

const revokeForUserScript = luaScript(`
local s, spent = KEYS[1], KEYS[2]
local f = redis.call('HMGET', s, 'sub', 'lu', 'exp')
if not f[1] or f[1] ~= ARGV[1] then return 0 end
redis.call('DEL', s, spent)
if tonumber(ARGV[2]) >= tonumber(f[3]) or tonumber(ARGV[2]) - tonumber(f[2]) >= tonumber(ARGV[3]) then return 0 end
return 1
`)

// Stores a new session record and its TTL (ARGV[1], ms) in one atomic command: field names and values
// follow from ARGV[2]. A script rather than MULTI/HSET/PEXPIRE/EXEC: one command to write and decode
// instead of four, in flight together with the index script.
const createScript = luaScript(`
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
`)

// Adds a session to its user's index and, past the cap (ARGV[5], 0: none), answers the oldest others
// (lowest absolute expiry, i.e. earliest start; ties by sid) for the caller to end. One script, so
// concurrent exchanges of one user agree on what is over the cap.
const indexAddScript = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local ttl = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
local cap, n = tonumber(ARGV[5]), redis.call('ZCARD', KEYS[1])
if cap == 0 or n <= cap then return {} end
local over = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, n - cap)) do
  if sid ~= ARGV[1] and #over < n - cap then over[#over + 1] = sid end
end
return over
`)

/** A session from the values of {@link sessionFields}, in that order (null: the field is absent). */
function sessionFromValues(sid: string, v: readonly (string | null | undefined)[]): Session | undefined {
  const [sub, cid, scope, aud, email, roles, ca, lu, exp, ua] = v
  if (sub == null || cid == null || exp == null) return undefined
  return {
    sid,
    sub,
    clientId: cid,
    scope: scope ? scope.split(' ') : [],
    audience: aud ?? '',
    email: email ?? '',
    roles: JSON.parse(roles ?? '[]') as string[],
    createdAt: Number(ca),
    lastUsedAt: Number(lu),
    expiresAt: Number(exp),
    userAgent: ua ? ua : null,
  }
}

/** A session from its HGETALL record. */
const parseSession = (sid: string, record: Readonly<Record<string, string>>) =>
  sessionFromValues(
    sid,
    sessionFields.map((field) => record[field]),
  )

/**
 * `durability`: every write that changes what a refresh token can do (a new
 * session, a rotation, an ended session) is answered only once that many
 * replicas hold it (REDIS_WAIT_REPLICAS); otherwise 503, and a retry is safe
 * (a repeated refresh inside the grace window returns the same successor).
 */
export function createRedisSessionStore(redis: RedisClient, options: SessionStorePolicy & { prefix: string; clock: Clock; durability?: Durability }): SessionStore {
  const { prefix, idleMs, graceMs, clock, durability } = options
  const maxPerUser = options.maxPerUser ?? 0
  const sessionKey = (sid: string) => `${prefix}sess:{${sid}}`
  const spentKey = (sid: string) => `${prefix}sess:{${sid}}:spent`
  const userKey = (sub: string) => `${prefix}user:{${hash('sha256', sub, 'base64url')}}:sess`

  return {
    create: (session, tokenHash) =>
      guarded(async () => {
        const now = clock.now()
        const ttl = Math.max(1, Math.min(session.expiresAt - now, idleMs))
        // One round trip: both scripts are sent, the index first, before either answer is awaited. If either fails the
        // exchange fails and nobody ever holds this session's token, so a session is never live without being
        // findable by "sign out everywhere" (on a Cluster the two keys may live on different masters).
        const indexed = indexAddScript(redis, [userKey(session.sub)], [session.sid, session.expiresAt, now, Math.max(1, session.expiresAt - now), maxPerUser]) as Promise<string[]>
        const stored = createScript(
          redis,
          [sessionKey(session.sid)],
          [
            ttl,
            'sub',
            session.sub,
            'cid',
            session.clientId,
            'scope',
            session.scope.join(' '),
            'aud',
            session.audience,
            'email',
            session.email,
            'roles',
            JSON.stringify(session.roles),
            'ca',
            session.createdAt,
            'lu',
            session.lastUsedAt,
            'exp',
            session.expiresAt,
            'ua',
            session.userAgent ?? '',
            'cur',
            tokenHash,
          ],
        )
        const [over] = await Promise.all([indexed, stored])
        // Over MAX_SESSIONS_PER_USER: the oldest end now, then leave the index (a failure leaves them findable).
        if (over.length > 0) {
          await Promise.all(over.map((sid) => revokeForUserScript(redis, [sessionKey(sid), spentKey(sid)], [session.sub, now, idleMs])))
          await redis.zrem(userKey(session.sub), ...over)
        }
        await replicated(redis, durability)
      }),

    rotate: (input) =>
      guarded(async (): Promise<SessionRotateOutcome> => {
        const reply = (await rotateScript(
          redis,
          [sessionKey(input.sid), spentKey(input.sid)],
          [input.tokenHash, input.clientId, input.now, graceMs, idleMs, input.nextTokenHash, input.sealedSuccessor, (input.scope ?? []).join(' '), input.audience ?? ''],
        )) as (string | null)[]
        const [kind, extra] = reply
        if (kind === 'rotated' || kind === 'repeated') {
          const session = sessionFromValues(input.sid, reply.slice(2))
          if (!session) return { kind: 'invalid' }
          await replicated(redis, durability)
          return kind === 'rotated' ? { kind, session } : { kind, session, sealedSuccessor: extra ?? '' }
        }
        if (kind === 'reused') {
          await redis.zrem(userKey(extra ?? ''), input.sid).catch(() => undefined)
          await replicated(redis, durability)
          return { kind, sub: extra ?? '' }
        }
        if (kind === 'wrong_client' || kind === 'invalid_scope' || kind === 'invalid_target') return { kind }
        return { kind: 'invalid' }
      }),

    revokeByToken: ({ sid, tokenHash, clientId }) =>
      guarded(async () => {
        const outcome = (await revokeByTokenScript(redis, [sessionKey(sid), spentKey(sid)], [tokenHash, clientId, clock.now(), idleMs])) as RevokeByTokenOutcome
        // The index entry goes lazily (listing drops members whose session is gone).
        if (outcome === 'revoked') await replicated(redis, durability)
        return outcome
      }),

    revokeForUser: (sub, sid) =>
      guarded(async () => {
        const ended = (await revokeForUserScript(redis, [sessionKey(sid), spentKey(sid)], [sub, clock.now(), idleMs])) as number
        await redis.zrem(userKey(sub), sid)
        await replicated(redis, durability)
        return ended === 1
      }),

    revokeAllForUser: (sub) =>
      guarded(async () => {
        const sids = await redis.zrange(userKey(sub), '0', '-1')
        const now = clock.now()
        const results = await Promise.all(sids.map((sid) => revokeForUserScript(redis, [sessionKey(sid), spentKey(sid)], [sub, now, idleMs])))
        await redis.del(userKey(sub))
        await replicated(redis, durability)
        return results.filter((ended) => ended === 1).length
      }),

    listForUser: (sub, now) =>
      guarded(async () => {
        const key = userKey(sub)
        await redis.zremrangebyscore(key, '-inf', now)
        const sids = await redis.zrange(key, '0', '-1')
        const records = await Promise.all(sids.map((sid) => redis.hgetall(sessionKey(sid))))
        const sessions: Session[] = []
        const gone: string[] = []
        sids.forEach((sid, i) => {
          const record = records[i] ?? {}
          const session = parseSession(sid, record)
          if (session && session.sub === sub && isLive(session, now, idleMs)) sessions.push(session)
          else gone.push(sid)
        })
        if (gone.length > 0) await redis.zrem(key, ...gone)
        return sessions.sort(byNewest)
      }),

    lookup: ({ sid, tokenHash, now }) =>
      guarded(async () => {
        // One single-key read: an ended session is left to its key TTL, nothing is written.
        const record = await redis.hgetall(sessionKey(sid))
        const session = parseSession(sid, record)
        if (!session || !isLive(session, now, idleMs)) return undefined
        if (tokenHash !== undefined && tokenHash !== record.cur) return undefined
        return session
      }),
  }
}
