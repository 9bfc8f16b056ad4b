/**
 * The Redis tier's Lua scripts: each runs atomically in Redis, so a store can check the tags'
 * invalidation positions and write in one step that no invalidation can interleave with.
 *
 * Keys under the namespace prefix P (one per database, see redis-store.ts):
 *   P epoch        random id; entries live under it, a new one makes every old entry unreadable
 *   P seq          invalidation counter
 *   P g:<tag>      seq at the tag's last invalidation (expires after longer than any request)
 *   P <epoch>:r:<key>   a response; P <epoch>:t:<tag>   set of keys carrying the tag
 * The tag sets expire with the longest-lived entry in them, so nothing needs KEYS or SCAN.
 */

/** KEYS: epoch, seq. ARGV: prefix, expected epoch, key → {seq, epoch, value|'', pttl}. */
export const lookupScript = `
local epoch = redis.call('GET', KEYS[1]) or ''
local seq = redis.call('GET', KEYS[2]) or '0'
if epoch ~= ARGV[2] then return {seq, epoch, '', 0} end
local entryKey = ARGV[1] .. epoch .. ':r:' .. ARGV[3]
local value = redis.call('GET', entryKey)
if not value then return {seq, epoch, '', 0} end
return {seq, epoch, value, redis.call('PTTL', entryKey)}
`

/** KEYS: epoch. ARGV: prefix, epoch, ticket seq, key, value, ttlMs, tags... → 1 stored, 0 refused. */
export const storeScript = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return 0 end
local since = tonumber(ARGV[3])
for i = 7, #ARGV do
  local at = redis.call('GET', ARGV[1] .. 'g:' .. ARGV[i])
  if at and tonumber(at) > since then return 0 end
end
local ttl = tonumber(ARGV[6])
local base = ARGV[1] .. ARGV[2]
redis.call('SET', base .. ':r:' .. ARGV[4], ARGV[5], 'PX', ttl)
for i = 7, #ARGV do
  local tagKey = base .. ':t:' .. ARGV[i]
  redis.call('SADD', tagKey, ARGV[4])
  if redis.call('PTTL', tagKey) < ttl then redis.call('PEXPIRE', tagKey, ttl) end
end
return 1
`

/** KEYS: seq, epoch. ARGV: prefix, position ttl ms, channel, message, tags... → new seq. */
export const invalidateScript = `
local seq = redis.call('INCR', KEYS[1])
local epoch = redis.call('GET', KEYS[2]) or ''
local base = ARGV[1] .. epoch
for i = 5, #ARGV do
  redis.call('SET', ARGV[1] .. 'g:' .. ARGV[i], seq, 'PX', ARGV[2])
  local tagKey = base .. ':t:' .. ARGV[i]
  local keys = redis.call('SMEMBERS', tagKey)
  for j = 1, #keys do redis.call('DEL', base .. ':r:' .. keys[j]) end
  redis.call('DEL', tagKey)
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return seq
`
