import { luaScript } from '../redis/lua-script.ts'

/**
 * Lua scripts of the Redis key store. Each runs atomically in Redis, so a
 * transition is all or nothing even if the calling instance dies mid-way.
 * The same rules in TypeScript: memory-key.store.ts (in-process store).
 *
 * KEYS[1] = meta hash (kid → JSON lifecycle facts), KEYS[2] = material hash
 * (kid → JSON public JWK + sealed private JWK). Both share one hash tag, so a
 * Redis Cluster keeps them in one slot. ARGV[1] is always the change channel.
 */
const prelude = `
local function load()
  local all = redis.call('HGETALL', KEYS[1])
  local keys, current, nxt = {}, nil, nil
  for i = 1, #all, 2 do
    local m = cjson.decode(all[i + 1])
    keys[all[i]] = m
    if m.state == 'current' then current = m elseif m.state == 'next' then nxt = m end
  end
  return keys, current, nxt
end
local function save(m)
  redis.call('HSET', KEYS[1], m.kid, cjson.encode(m))
end
local function add(kid, alg, state, now, material)
  local m = { kid = kid, alg = alg, state = state, createdAt = now }
  if state == 'current' then m.activatedAt = now end
  save(m)
  redis.call('HSET', KEYS[2], kid, material)
  return m
end
local function changed(what)
  redis.call('PUBLISH', ARGV[1], what)
end
`

/** ARGV: channel, now, currentKid, currentAlg, currentMaterial, nextKid, nextAlg, nextMaterial → created kids. */
export const ensureScript = luaScript(`${prelude}
local keys, current, nxt = load()
local now = tonumber(ARGV[2])
local created = {}
if not current and not keys[ARGV[3]] then
  add(ARGV[3], ARGV[4], 'current', now, ARGV[5])
  created[#created + 1] = ARGV[3]
end
if not nxt and not keys[ARGV[6]] then
  add(ARGV[6], ARGV[7], 'next', now, ARGV[8])
  created[#created + 1] = ARGV[6]
end
if #created > 0 then changed('ensure') end
return created
`)

/**
 * ARGV: channel, now, force (1/0), minNextAgeMs, expectedCurrentKid ('' = any),
 * activatedBefore ('' = no check), newKid, newAlg, newMaterial.
 */
export const rotateScript = luaScript(`${prelude}
local keys, current, nxt = load()
local now = tonumber(ARGV[2])
if not current or not nxt then return { 'incomplete' } end
if ARGV[5] ~= '' and current.kid ~= ARGV[5] then return { 'stale' } end
if ARGV[6] ~= '' and (current.activatedAt or 0) > tonumber(ARGV[6]) then return { 'not_due' } end
local age = now - nxt.createdAt
local minAge = tonumber(ARGV[4])
if ARGV[3] ~= '1' and age < minAge then return { 'too_young', minAge - age } end
if keys[ARGV[7]] then return { 'stale' } end
current.state = 'retired'
current.retiredAt = now
save(current)
nxt.state = 'current'
nxt.activatedAt = now
save(nxt)
add(ARGV[7], ARGV[8], 'next', now, ARGV[9])
changed('rotate')
return { 'rotated', nxt.kid, ARGV[7], current.kid }
`)

/** ARGV: channel, now, kid, replacementKid, replacementAlg, replacementMaterial. */
export const revokeScript = luaScript(`${prelude}
local keys, current, nxt = load()
local now = tonumber(ARGV[2])
local key = keys[ARGV[3]]
if not key then return { 'not_found' } end
if key.state == 'revoked' then return { 'already_revoked' } end
local previous = key.state
key.state = 'revoked'
key.revokedAt = now
save(key)
redis.call('HDEL', KEYS[2], key.kid)
if previous == 'current' then
  if nxt then
    nxt.state = 'current'
    nxt.activatedAt = now
    save(nxt)
    nxt = add(ARGV[4], ARGV[5], 'next', now, ARGV[6])
  else
    add(ARGV[4], ARGV[5], 'current', now, ARGV[6])
    nxt = nil
  end
elseif previous == 'next' then
  nxt = add(ARGV[4], ARGV[5], 'next', now, ARGV[6])
end
changed('revoke')
local _, c, n = load()
return { 'revoked', previous, c and c.kid or '', n and n.kid or '' }
`)

/** ARGV: channel, now, lifetimeMs → removed kids. */
export const removeExpiredScript = luaScript(`${prelude}
local keys = load()
local now = tonumber(ARGV[2])
local lifetime = tonumber(ARGV[3])
local removed = {}
for kid, m in pairs(keys) do
  local since = nil
  if m.state == 'retired' then since = m.retiredAt elseif m.state == 'revoked' then since = m.revokedAt end
  if since and since + lifetime <= now then
    redis.call('HDEL', KEYS[1], kid)
    redis.call('HDEL', KEYS[2], kid)
    removed[#removed + 1] = kid
  end
end
if #removed > 0 then changed('remove') end
return removed
`)

/** KEYS[1] = material hash. ARGV: kid, expectedSealed, sealed → 1 when replaced. */
export const replaceSealedScript = luaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local m = cjson.decode(raw)
if m.sealedPrivateKey ~= ARGV[2] then return 0 end
m.sealedPrivateKey = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(m))
return 1
`)

/** KEYS[1] = lock key. ARGV: token. Compare-and-delete: never releases a lock another holder took after ours expired. */
export const releaseLockScript = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
