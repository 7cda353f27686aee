"""The Lua scripts of the session store: each change to a session and its user's index is one
atomic script, so concurrent logins and revocations from any number of processes never leave
a user above `max_per_user` or an index naming a live session that was revoked.

A user's index is a sorted set of the Redis keys of their sessions, scored by creation time.
The scripts touch the session keys the index names, so they run on standalone and Sentinel
deployments (not Cluster, where those keys may live on other nodes).
"""

from __future__ import annotations

__all__ = ["CREATE", "REVOKE", "REVOKE_USER", "TOUCH", "UPDATE"]

# KEYS: session, index. ARGV: record, ttl ms, now ms, max per user (0: none).
# Returns how many older sessions were evicted.
CREATE = """
local idx = KEYS[2]
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  if redis.call('EXISTS', m) == 0 then redis.call('ZREM', idx, m) end
end
local evicted = 0
local max = tonumber(ARGV[4])
if max > 0 then
  while redis.call('ZCARD', idx) >= max do
    local oldest = redis.call('ZPOPMIN', idx)
    redis.call('DEL', oldest[1])
    evicted = evicted + 1
  end
end
redis.call('HSET', KEYS[1], 'b', ARGV[1], 'x', idx)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
-- Scores strictly increase, so the oldest is well defined even within one millisecond.
local score = tonumber(ARGV[3])
local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= score then score = tonumber(top[2]) + 1 end
redis.call('ZADD', idx, score, KEYS[1])
if redis.call('PTTL', idx) < tonumber(ARGV[2]) then redis.call('PEXPIRE', idx, ARGV[2]) end
return evicted
"""

# KEYS: session. ARGV: ttl ms. Restarts the TTL of a live session (and keeps its index alive).
TOUCH = """
local idx = redis.call('HGET', KEYS[1], 'x')
if not idx then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('PTTL', idx) < tonumber(ARGV[1]) then redis.call('PEXPIRE', idx, ARGV[1]) end
return 1
"""

# KEYS: session. ARGV: record, ttl ms (0: keep the TTL). Only a live session is updated.
UPDATE = """
local idx = redis.call('HGET', KEYS[1], 'x')
if not idx then return 0 end
redis.call('HSET', KEYS[1], 'b', ARGV[1])
if tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if redis.call('PTTL', idx) < tonumber(ARGV[2]) then redis.call('PEXPIRE', idx, ARGV[2]) end
end
return 1
"""

# KEYS: session. Deletes it and its index entry; 1 if it was live.
REVOKE = """
local idx = redis.call('HGET', KEYS[1], 'x')
if not idx then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', idx, KEYS[1])
return 1
"""

# KEYS: index. Deletes every session of the user; returns how many were live.
REVOKE_USER = """
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', m)
end
redis.call('DEL', KEYS[1])
return n
"""
