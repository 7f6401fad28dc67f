/**
 * Redis lease registry. Design notes:
 *
 * Key layout (flannel's etcd layout, under a configurable prefix, default `/coreos.com/network`):
 * - `<prefix>/config`: net-conf.json (see `readRedisNetConf`).
 * - `<prefix>/subnets/<subnet key>`: one lease, value = flannel's LeaseAttrs JSON
 *   (`{"PublicIP":"1.2.3.4","PublicIPv6":null,"BackendType":"vxlan","BackendData":{…}}`), expiry = the key's
 *   TTL (`PX`); a key without TTL is a reservation, as in flannel.
 * - Weft-only indexes beside them (never read by flannel; only ever hints, always verified):
 *   - `<prefix>/claims`, a hash: family subnet (`10.244.1.0-24`, `fd00:1::-64`) -> the lease key holding it.
 *     Plain `SET NX` on the lease key cannot stop two dual-stack keys (`10.244.1.0-24&fd00::-64` and
 *     `10.244.1.0-24&fd00:0:0:1::-64`) from sharing an IPv4 subnet; the claims can. A claim counts only while the
 *     lease key it names exists, so claims need no TTL of their own.
 *   - `<prefix>/owners`, a hash: public IP -> the lease key carrying it (the "reuse the lease carrying my public
 *     IP" lookup without reading every value); verified against the lease value on use.
 *   - `<prefix>/leases`, a set of the lease keys Weft wrote, so that the owner search reads only the values of
 *     leases written by hand (flannel-style reservations) when the owners hash has no entry.
 *   - For server-side allocation (below): `<prefix>/taken/<family>-<len>/<bucket>`, sorted sets of the subnets of
 *     live leases in address order (member = claim field, score = subnet number mod 2^52); `<prefix>/index`, a
 *     hash lease key -> its taken entries (a key missing here counts as "written outside Weft");
 *     `<prefix>/expiries`, a sorted set lease key -> expiry time (ms, server clock; reservations absent);
 *     `<prefix>/lengths`, a sorted set "<family>-<len>" -> the latest expiry of a lease of that length;
 *     `<prefix>/foreign-scan`, the cached count of leases written outside Weft (PX `foreignScanMs`).
 *
 * Atomicity: create/update/delete are Lua scripts (EVALSHA, EVAL on NOSCRIPT). A write checks, in one atomic
 * step, the lease key (absent for create; absent or same owner — same `PublicIP`, or `PublicIPv6` on an
 * IPv6-only network — for update), the single-family lease keys of its subnets (leases written by hand without
 * claims) and the claims of its subnets, then writes the lease, its claims and the indexes. So no interleaving of
 * any number of clients can give one subnet to two live leases.
 *
 * Server-side allocation (`allocate()`, used by the manager): flannel's whole choice in one script, so a herd of
 * acquirers never loses a race and each acquisition is one round trip. The script (1) drops leases whose expiry
 * has passed from the indexes (checking PTTL; deleted ones are dropped by the delete script), (2) declines
 * (generic path) while leases written outside Weft exist (a SCAN at most every `foreignScanMs`), (3) returns
 * this owner's lease for the client to renew (if it fits the config) or delete, (4) declines while leases of
 * another SubnetLen of the family live, (5) per family takes the previous subnet if free, else the j-th free
 * subnet from SubnetMin, j random in 1..min(100, free): with u_k the window index of the k-th taken subnet,
 * u_k - k subnets are free before it, so the j-th free one is j - 1 + #{k : u_k - k < j}, found by a binary
 * search over ranks (ZCOUNT + ZRANGE by rank, O(log² n)) instead of a walk; the chosen subnet is checked once
 * more against the claims and its single-family key, like every write; (6) writes the lease, claims and
 * indexes. Lua numbers are doubles, so IPv6 addresses never become numbers: the client passes SubnetMin as
 * 16-bit groups and the script works on indexes and scores (< 2^53), formatting RFC 5952 text itself.
 * The indexes are hints in one direction only: a subnet they list as taken may be free (a lease deleted behind
 * Weft's back stays taken until its recorded expiry), never the reverse.
 *
 * The generic acquisition path (declined cases; registries without `allocate`) reads one script: all lease keys
 * (SCAN, no values) plus this node's complete lease, if any. The watch and `list()` read everything (SCAN + GET
 * + PTTL in one script: one round trip, an atomic snapshot).
 *
 * Watch: keyevent notifications (`__keyevent@<db>__:<event>` for the events that can change or remove a string
 * key: set, del, expired, rename_*, ...; the key is the message, filtered by `<prefix>/subnets/` here; enabled with
 * CONFIG SET `notify-keyspace-events` += `E$gx` when allowed, re-applied after every reconnect since a restarted
 * server forgets it) are only a trigger: each notified key is re-read (GET + PTTL) and reported as added or
 * removed. Keyevent channels rather than keyspace ones because a `SET … PX` (every lease write) notifies both
 * `set` and `expire`: the `expire` event (a TTL-only change, which the LeaseWatcher drops as a renewal anyway)
 * is not subscribed, so a burst of 1,000 writes costs 1,000 notifications to decode, not 2,000. The price: the
 * subscriber also receives these events for keys outside the prefix (filtered here; Redis for Weft is dedicated). The
 * keys notified in one burst (everything the socket delivered before the next macrotask) are re-read by script calls
 * of 250 keys sent together, so 1,000 leases written at once cost one round trip; each chunk's events are queued as
 * soon as it is decoded, and the next chunk waits until what the consumer scheduled for them has run.
 * The truth is a re-list, emitted as a `snapshot`: at start, after every (re)connection of the subscriber, and
 * every `resyncMs` (every `pollMs` when notifications cannot be enabled). The LeaseWatcher diffs snapshots, so
 * missed events, restarts with or without data, and expiries all converge.
 *
 * Not supported: Redis Cluster (the list script touches keys it does not declare) and ioredis' `keyPrefix`.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { NetConf } from "@weft/netconf";
import ipaddr from "ipaddr.js";
import { OutOfSubnetsError, allocateSubnet, subnetFitsWindow } from "@weft/ipam";
import type { Cidr, SubnetWindow } from "@weft/ipam";
import type {
  AssignedSubnets,
  Lease,
  LeaseAttrs,
  LeaseRegistry,
  ListLeasesOptions,
  RegistryAllocateOptions,
  RegistryEvent,
  RegistryWatchOptions,
  RegistryWriteOptions,
} from "./types.ts";
import { leaseFitsConfig } from "./lease_fits_config.ts";
import { LeaseConflictError } from "./errors.ts";
import { parseSubnetKey } from "./subnet_key.ts";
import type { SubnetKeyParts } from "./subnet_key.ts";
import { decodeLeaseAttrs, encodeLeaseAttrs } from "./lease_json.ts";
import { leaseKey, makeLease, ownerOf } from "./_lease.ts";
import { cidrText } from "./_ip.ts";
import { AsyncQueue, abortReason, raceAbort, sleep } from "./_async.ts";

/** flannel's `--etcd-prefix` default. */
export const DEFAULT_REDIS_PREFIX = "/coreos.com/network";

/** Options of {@linkcode RedisLeaseRegistry}. */
export interface RedisLeaseRegistryOptions {
  /** Key prefix (flannel's `--etcd-prefix`). @default "/coreos.com/network" */
  prefix?: string;
  /** Full re-list period of a watch while keyevent notifications work. @default 60_000 */
  resyncMs?: number;
  /** Re-list period of a watch when keyevent notifications cannot be enabled. @default 5_000 */
  pollMs?: number;
  /** Enable keyevent notifications (`E$gx`) with CONFIG SET when they are off (errors are tolerated). @default true */
  configureNotifications?: boolean;
  /** Clock in ms since the epoch, for `expiration`. @default Date.now */
  now?: () => number;
  /**
   * When the owner index (`<prefix>/owners/<public ip>`, written with every lease) does not name this node's
   * lease, look for it among all values on the server (finds leases written by hand, e.g. flannel-style
   * reservations; costs one GET per lease, server-side, per acquisition of a node without a lease).
   * @default true
   */
  scanForOwner?: boolean;
  /** Called with errors the watch recovers from (lost connection, failed re-list). @default none */
  onWatchError?: (err: unknown) => void;
  /**
   * `allocate()` looks for leases written outside Weft (by hand, by flannel; they are not in Weft's indexes, so
   * their presence sends acquisitions down the generic path) with a server-side SCAN at most this often; a lease
   * written by hand is noticed by acquisitions within this time. 0 = scan on every acquisition.
   * @default 1_000
   */
  foreignScanMs?: number;
}

const OWNER_LUA = `
local function owner_of(v)
  local ok, t = pcall(cjson.decode, v)
  if not ok or type(t) ~= "table" then return "" end
  local ip = t["PublicIP"]
  if type(ip) == "string" and ip ~= "" and ip ~= "0.0.0.0" then return ip end
  local ip6 = t["PublicIPv6"]
  if type(ip6) == "string" then return ip6 end
  return ""
end
`;

// Shared by the write, delete and allocate scripts: the server's clock in ms, "no expiry" as a score, the
// family-length member ("4-24", "6-64") of a claim field ("10.244.1.0-24", "fd00:1::-64"), and forget(), which
// drops a lease that is gone from the indexes (its taken entries and claims only while they are still its own).
const INDEX_LUA = `
local FOREVER = 1e15
-- Integers as exact decimal text (Lua's own number-to-string keeps 14 digits; subnet scores reach 2^52).
local function num(x)
  return string.format("%.0f", x)
end
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function family_len(field)
  local len = string.match(field, "%-(%d+)$")
  if not len then return nil end
  return (string.find(field, ":", 1, true) and "6-" or "4-") .. len
end
local function forget(key, claims, written, expiries, index)
  local entry = redis.call("HGET", index, key)
  if entry then
    local parts = {}
    for x in string.gmatch(entry, "[^\\n]+") do parts[#parts + 1] = x end
    for i = 1, #parts - 1, 2 do
      local z, m = parts[i], parts[i + 1]
      local holder = redis.call("HGET", claims, m)
      if not holder or holder == key then
        redis.call("ZREM", z, m)
        if holder then redis.call("HDEL", claims, m) end
      end
    end
    redis.call("HDEL", index, key)
  end
  redis.call("ZREM", expiries, key)
  redis.call("SREM", written, key)
end
`;

// KEYS: lease key, claims hash, owners hash, Weft-written set, expiries zset, lengths zset, index hash, then the
// single-family lease key of each subnet (KEYS[7 + j], j = 1..n).
// ARGV: mode ("create" | "update"), value, px (0 = no expiry), owner, "", "", "", then the claim field of each
// subnet (ARGV[7 + j]), then per subnet its taken zset and score (ARGV[7 + n + 2j - 1], ARGV[7 + n + 2j]).
const WRITE_LUA = `${OWNER_LUA}${INDEX_LUA}
local key, claims, owners, written, expiries, lengths, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local mode, value, px, owner = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local n = #KEYS - 7
local cur = redis.call("GET", key)
if cur then
  if mode == "create" then return {0, "the key exists"} end
  if owner_of(cur) ~= owner then return {0, "the key is held by another owner"} end
end
for j = 1, n do
  local bare = KEYS[7 + j]
  if bare ~= key and redis.call("EXISTS", bare) == 1 then return {0, "a subnet is held by " .. bare} end
  local holder = redis.call("HGET", claims, ARGV[7 + j])
  if holder and holder ~= key and redis.call("EXISTS", holder) == 1 then return {0, "a subnet is held by " .. holder} end
end
local now = now_ms()
if px > 0 then
  redis.call("SET", key, value, "PX", px)
  redis.call("ZADD", expiries, num(now + px), key)
else
  redis.call("SET", key, value)
  redis.call("ZREM", expiries, key)
end
local entry = {}
for j = 1, n do
  local field, zset, score = ARGV[7 + j], ARGV[7 + n + 2 * j - 1], ARGV[7 + n + 2 * j]
  redis.call("HSET", claims, field, key)
  redis.call("ZADD", zset, score, field)
  entry[#entry + 1] = zset
  entry[#entry + 1] = field
  local fl = family_len(field)
  if fl then redis.call("ZADD", lengths, "GT", num(px > 0 and (now + px) or FOREVER), fl) end
end
redis.call("HSET", index, key, table.concat(entry, "\\n"))
redis.call("HSET", owners, owner, key)
redis.call("SADD", written, key)
return {1, redis.call("PTTL", key)}
`;

// KEYS: lease key, claims hash, owners hash, Weft-written set, expiries zset, index hash.
// ARGV: owner, then the claim fields.
const DELETE_LUA = `${OWNER_LUA}${INDEX_LUA}
local key, claims, owners, written = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cur = redis.call("GET", key)
if not cur or owner_of(cur) ~= ARGV[1] then return 0 end
redis.call("DEL", key)
forget(key, claims, written, KEYS[5], KEYS[6])
for i = 2, #ARGV do
  if redis.call("HGET", claims, ARGV[i]) == key then redis.call("HDEL", claims, ARGV[i]) end
end
if redis.call("HGET", owners, ARGV[1]) == key then redis.call("HDEL", owners, ARGV[1]) end
redis.call("SREM", written, key)
return 1
`;

// ARGV[1] SCAN MATCH pattern. Returns key, value, pttl triples (non-string keys are skipped).
const LIST_LUA = `
local out, seen, cursor = {}, {}, "0"
repeat
  local r = redis.call("SCAN", cursor, "MATCH", ARGV[1], "COUNT", 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if not seen[k] then
      seen[k] = true
      local ok, v = pcall(redis.call, "GET", k)
      if ok and v then
        out[#out + 1] = k
        out[#out + 1] = v
        out[#out + 1] = redis.call("PTTL", k)
      end
    end
  end
until cursor == "0"
return out
`;

// The watch's re-read of notified keys: KEYS = the keys; returns value (nil when gone), pttl per key, flat. One
// command for a whole burst of notifications (a pipeline of GET + PTTL per key costs the client two commands,
// two promises and two replies a key).
const FETCH_LUA = `
local out = {}
for i, k in ipairs(KEYS) do
  local ok, v = pcall(redis.call, "GET", k)
  if ok and v then
    out[2 * i - 1] = v
    out[2 * i] = redis.call("PTTL", k)
  else
    out[2 * i - 1] = false
    out[2 * i] = ok and -2 or -3
  end
end
return out
`;

// The acquisition list: every lease key (no values), plus the complete lease of one owner, found through the
// owners hash or, when that has nothing, among the leases NOT written by Weft (written by hand, e.g. flannel-style
// reservations; Weft's own are in the written set and would have been in the owners hash): substring prefilter,
// then an exact JSON check. KEYS: owners hash, Weft-written set. ARGV: SCAN MATCH pattern, owner, "1" to search.
// Returns {keys, {key, value, pttl} or {}}.
const LIST_FOR_OWNER_LUA = `${OWNER_LUA}
local keys, seen, cursor = {}, {}, "0"
repeat
  local r = redis.call("SCAN", cursor, "MATCH", ARGV[1], "COUNT", 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if not seen[k] then
      seen[k] = true
      keys[#keys + 1] = k
    end
  end
until cursor == "0"
local owner = ARGV[2]
local indexed = redis.call("HGET", KEYS[1], owner)
if indexed then
  local ok, v = pcall(redis.call, "GET", indexed)
  if ok and v and owner_of(v) == owner then return {keys, {indexed, v, redis.call("PTTL", indexed)}} end
end
if ARGV[3] == "1" and #keys > 0 then
  for first = 1, #keys, 1000 do
    local batch = {}
    for i = first, math.min(first + 999, #keys) do batch[#batch + 1] = keys[i] end
    local member = redis.call("SMISMEMBER", KEYS[2], unpack(batch))
    for i, k in ipairs(batch) do
      if member[i] == 0 then
        local ok, v = pcall(redis.call, "GET", k)
        if ok and v and string.find(v, owner, 1, true) and owner_of(v) == owner then
          return {keys, {k, v, redis.call("PTTL", k)}}
        end
      end
    end
  end
end
return {keys, {}}
`;

// flannel's whole acquisition for one node, atomically (see the module notes, "Server-side allocation").
// KEYS: claims hash, owners hash, Weft-written set, expiries zset, lengths zset, index hash, foreign-scan marker.
// ARGV: 1 "<prefix>/subnets/", 2 SCAN MATCH pattern, 3 owner, 4 value, 5 px (0 = no expiry), 6 foreign-scan
// period in ms (0 = scan every call), 7 candidates, then one window per family at 8 (IPv4) and 18 (IPv6):
// enabled ("1"/"0"), family, SubnetMin (IPv4: a number; IPv6: its eight 16-bit groups, decimal, comma
// separated), host bits (32 or 128 - SubnetLen), SubnetLen, number of subnets in the window, taken zset, score
// of SubnetMin in it, index of the previous subnet in the window (-1 = none), random number in [0, 1).
// Lua numbers are doubles (exact to 2^53): an IPv6 address is never one; a subnet is its index i in the window
// (SubnetMin + i * 2^hostbits) and its score in the taken zset (subnet number mod 2^52, see takenSlot()).
// Returns {"created", key, pttl} | {"existing", key, value, pttl} (this owner's lease: the client checks that
// it fits the config, then renews or deletes it) | {"full", family} | {"decline", reason}.
const ALLOCATE_LUA = `${OWNER_LUA}${INDEX_LUA}
local claims, owners, written, expiries, lengths, index, marker = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local sprefix, pattern, owner, value = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local px, scanms, want = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local now = now_ms()

-- 1. Leases expired since the last call leave the indexes (up to 100 a call; the rest stay taken until later).
for _, k in ipairs(redis.call("ZRANGEBYSCORE", expiries, "-inf", num(now), "LIMIT", 0, 100)) do
  local pt = redis.call("PTTL", k)
  if pt == -2 then forget(k, claims, written, expiries, index)
  elseif pt == -1 then redis.call("ZREM", expiries, k)
  else redis.call("ZADD", expiries, num(now + pt), k) end
end

-- 2. Leases not in the index (written by hand, by flannel, by an older Weft) are unknown to the taken zsets:
-- the generic path handles them. Looked for with a SCAN at most once per scan period (the marker caches it).
local foreign = redis.call("GET", marker)
if not foreign then
  foreign = 0
  local cursor = "0"
  repeat
    local r = redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
    cursor = r[1]
    local keys = r[2]
    for first = 1, #keys, 1000 do
      local batch = {}
      for i = first, math.min(first + 999, #keys) do batch[#batch + 1] = keys[i] end
      local known = redis.call("HMGET", index, unpack(batch))
      for i = 1, #batch do
        -- keys that are not subnet keys are skipped, as flannel does ("not a subnet, skipping")
        if not known[i] and string.match(string.sub(batch[i], #sprefix + 1), "^%d+%.%d+%.%d+%.%d+%-%d+") then foreign = foreign + 1 end
      end
    end
  until cursor == "0"
  if scanms > 0 then redis.call("SET", marker, foreign, "PX", scanms) end
end
if tonumber(foreign) > 0 then return {"decline", "leases written outside Weft exist"} end

-- 3. This owner's lease (owners hash, verified against the value).
local mine = redis.call("HGET", owners, owner)
if mine then
  local ok, v = pcall(redis.call, "GET", mine)
  if ok and v and owner_of(v) == owner then return {"existing", mine, v, redis.call("PTTL", mine)} end
end

-- 4. The windows.
local function v4_text(min, s, i)
  local a = min + i * 2 ^ s
  return string.format("%d.%d.%d.%d", math.floor(a / 16777216) % 256, math.floor(a / 65536) % 256, math.floor(a / 256) % 256, a % 256)
end
local function v6_text(g, s, i)
  -- SubnetMin + i * 2^s over eight 16-bit groups (g[1] most significant), then RFC 5952 text.
  local h, carry = {}, 0
  for k = 8, 1, -1 do
    local o = 16 * (8 - k)
    local c
    if s >= o then
      local d = s - o
      if d >= 16 then c = 0 else c = (i % 2 ^ (16 - d)) * 2 ^ d end
    else
      c = math.floor(i / 2 ^ (o - s)) % 65536
    end
    local v = g[k] + c + carry
    carry = math.floor(v / 65536)
    h[k] = v % 65536
  end
  local bs, bl, cs, cl = 0, 0, 0, 0
  for k = 1, 8 do
    if h[k] == 0 then
      if cl == 0 then cs = k end
      cl = cl + 1
      if cl > bl then bs, bl = cs, cl end
    else
      cl = 0
    end
  end
  local parts = {}
  for k = 1, 8 do parts[k] = string.format("%x", h[k]) end
  if bl < 2 then return table.concat(parts, ":") end
  return table.concat(parts, ":", 1, bs - 1) .. "::" .. table.concat(parts, ":", bs + bl, 8)
end
local function window(base)
  if ARGV[base] ~= "1" then return nil end
  local w = { fam = ARGV[base + 1], s = tonumber(ARGV[base + 3]), len = ARGV[base + 4], count = tonumber(ARGV[base + 5]),
    zset = ARGV[base + 6], lo = tonumber(ARGV[base + 7]), prev = tonumber(ARGV[base + 8]), r = tonumber(ARGV[base + 9]) }
  if w.fam == "4" then
    local min = tonumber(ARGV[base + 2])
    w.text = function(i) return v4_text(min, w.s, i) .. "-" .. w.len end
    w.bare = function(t) return sprefix .. t end
  else
    local g = {}
    for x in string.gmatch(ARGV[base + 2], "%d+") do g[#g + 1] = tonumber(x) end
    w.text = function(i) return v6_text(g, w.s, i) .. "-" .. w.len end
    w.bare = function(t) return sprefix .. "0.0.0.0-0&" .. t end
  end
  return w
end
local wins = {}
for _, base in ipairs({8, 18}) do
  local w = window(base)
  if w then wins[#wins + 1] = w end
end

-- 5. Subnet lengths in use: another length of the same family (SubnetLen changed while older leases live)
-- could overlap a candidate without being in its taken zset: the generic path handles that.
-- Members score the latest expiry of a lease written with that length; "v1" marks the zset as complete.
local inuse = redis.call("ZRANGEBYSCORE", lengths, "(" .. num(now), "+inf")
if inuse[#inuse] ~= "v1" then
  -- First use (or data written by an older Weft): learn the lengths from the claims of live leases.
  local all = redis.call("HGETALL", claims)
  for i = 1, #all, 2 do
    local pt = redis.call("PTTL", all[i + 1])
    local fl = family_len(all[i])
    if pt ~= -2 and fl then redis.call("ZADD", lengths, "GT", num(pt >= 0 and (now + pt) or FOREVER), fl) end
  end
  redis.call("ZADD", lengths, num(2 * FOREVER), "v1")
  redis.call("ZREMRANGEBYSCORE", lengths, "-inf", num(now))
  inuse = redis.call("ZRANGEBYSCORE", lengths, "(" .. num(now), "+inf")
end
for _, m in ipairs(inuse) do
  for _, w in ipairs(wins) do
    if string.sub(m, 1, 2) == w.fam .. "-" and m ~= w.fam .. "-" .. w.len then return {"decline", "leases of another subnet length exist"} end
  end
end

-- The taken zset holds every subnet of a live indexed lease (and, until their expiry passes, those deleted
-- behind Weft's back: conservative). The chosen subnet is checked once more against the claims and its
-- single-family key, like every write.
local function held(t, bare)
  local h = redis.call("HGET", claims, t)
  if h and redis.call("EXISTS", h) == 1 then return true end
  return redis.call("EXISTS", bare) == 1
end
-- flannel: the previous subnet if it fits (the client checked) and is free; else the first 'want' free
-- subnets walking from SubnetMin, one picked at random. No walk: with u_k the window index of the k-th taken
-- subnet (k from 0), u_k - k free subnets precede it and grows with k, so the j-th free subnet is
-- j - 1 + L, L = how many k have u_k - k < j: a binary search over ranks (ZRANGE by rank, O(log n) each).
local function pick(w)
  local lo, hi = w.lo, w.lo + w.count - 1
  -- The previous subnet is checked against the claims and keys only: a taken entry is a hint, and one left by a
  -- lease deleted by hand (an operator removing a node) must not keep the node from its subnet when it rejoins.
  if w.prev >= 0 then
    local t = w.text(w.prev)
    if not held(t, w.bare(t)) then return t, w.prev end
  end
  local taken = redis.call("ZCOUNT", w.zset, num(lo), num(hi))
  local free = w.count - taken
  if free <= 0 then return nil end
  local f = math.min(want, free)
  local j = math.floor(w.r * f) + 1
  if j > f then j = f end
  local r0 = redis.call("ZCOUNT", w.zset, "-inf", "(" .. num(lo))
  local L, R = 0, taken
  while R - L > 16 do
    local mid = math.floor((L + R) / 2)
    local e = redis.call("ZRANGE", w.zset, num(r0 + mid), num(r0 + mid), "WITHSCORES")
    if tonumber(e[2]) - lo - mid >= j then R = mid else L = mid + 1 end
  end
  if L < R then -- the last few ranks in one call
    local e = redis.call("ZRANGE", w.zset, num(r0 + L), num(r0 + R - 1), "WITHSCORES")
    local k = L
    while k < R and tonumber(e[2 * (k - L) + 2]) - lo - k < j do k = k + 1 end
    L = k
  end
  local x = j - 1 + L
  local t = w.text(x)
  if held(t, w.bare(t)) then return false end
  return t, x
end

local chosen, at = {}, {}
for idx, w in ipairs(wins) do
  local t, x = pick(w)
  if t == nil then return {"full", w.fam} end
  if t == false then
    redis.call("DEL", marker)
    return {"decline", "the index and the claims disagree"}
  end
  chosen[idx], at[idx] = t, x
end
local key
if #wins == 2 then key = sprefix .. chosen[1] .. "&" .. chosen[2]
elseif wins[1].fam == "4" then key = sprefix .. chosen[1]
else key = sprefix .. "0.0.0.0-0&" .. chosen[1] end
-- (A single-family key is the chosen subnet's own key, checked by held() already.)
if #wins == 2 and redis.call("EXISTS", key) == 1 then return {"decline", "the key exists"} end
if px > 0 then
  redis.call("SET", key, value, "PX", px)
  redis.call("ZADD", expiries, num(now + px), key)
else
  redis.call("SET", key, value)
end
local entry = {}
for idx, w in ipairs(wins) do
  redis.call("HSET", claims, chosen[idx], key)
  redis.call("ZADD", w.zset, num(w.lo + at[idx]), chosen[idx])
  entry[#entry + 1] = w.zset
  entry[#entry + 1] = chosen[idx]
  redis.call("ZADD", lengths, "GT", num(px > 0 and (now + px) or FOREVER), w.fam .. "-" .. w.len)
end
redis.call("HSET", index, key, table.concat(entry, "\\n"))
redis.call("HSET", owners, owner, key)
redis.call("SADD", written, key)
return {"created", key, px > 0 and px or -1}
`;

interface Script {
  lua: string;
  sha: string;
}
/**
 * Resolves after the macrotasks that the consumers of events just pushed have scheduled (with `setImmediate`,
 * from their microtasks, so after this one's first `setImmediate`): two turns of the check phase.
 */
function afterConsumers(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * Keys re-read per script call by the watch. A burst of more is fetched by several calls sent at once and
 * reported chunk by chunk (see the watch), so 1,000 leases written at once reach the consumer in 4 steps.
 */
const FETCH_CHUNK = 250;
const script = (lua: string): Script => ({ lua, sha: createHash("sha1").update(lua).digest("hex") });
const WRITE = script(WRITE_LUA);
const DELETE = script(DELETE_LUA);
const LIST = script(LIST_LUA);
const FETCH = script(FETCH_LUA);
const LIST_FOR_OWNER = script(LIST_FOR_OWNER_LUA);
const ALLOCATE = script(ALLOCATE_LUA);

const windowCache = new WeakMap<NetConf, { v4?: SubnetWindow; v6?: SubnetWindow }>();
/** {@linkcode configWindows}, validated once per config object (a herd of acquisitions shares one). */
function windowsOf(config: NetConf): { v4?: SubnetWindow; v6?: SubnetWindow } {
  let w = windowCache.get(config);
  if (!w) {
    w = configWindows(config);
    for (const win of [w.v4, w.v6]) {
      if (!win) continue;
      // Validates the window exactly like the generic path (RangeError for a misaligned or foreign SubnetMin/Max).
      try {
        allocateSubnet(win, { candidates: 1, random: () => 0 });
      } catch (err) {
        if (!(err instanceof OutOfSubnetsError)) throw err;
      }
    }
    windowCache.set(config, w);
  }
  return w;
}

/** The subnet windows of a config, per enabled family (the generic path's checks and error texts). */
function configWindows(config: NetConf): { v4?: SubnetWindow; v6?: SubnetWindow } {
  if (!config.enableIPv4 && !config.enableIPv6) throw new TypeError("acquire: config enables neither IPv4 nor IPv6");
  const out: { v4?: SubnetWindow; v6?: SubnetWindow } = {};
  if (config.enableIPv4) {
    if (!config.network || !config.subnetLen || !config.subnetMin || !config.subnetMax) {
      throw new TypeError("acquire: config enables IPv4 without network/subnetLen/subnetMin/subnetMax (parse it with check: true)");
    }
    out.v4 = { network: config.network, subnetLen: config.subnetLen, subnetMin: config.subnetMin, subnetMax: config.subnetMax };
  }
  if (config.enableIPv6) {
    if (!config.ipv6Network || !config.ipv6SubnetLen || !config.ipv6SubnetMin || !config.ipv6SubnetMax) {
      throw new TypeError("acquire: config enables IPv6 without ipv6Network/ipv6SubnetLen/ipv6SubnetMin/ipv6SubnetMax");
    }
    out.v6 = { network: config.ipv6Network, subnetLen: config.ipv6SubnetLen, subnetMin: config.ipv6SubnetMin, subnetMax: config.ipv6SubnetMax };
  }
  return out;
}

function addrBig(address: string): bigint {
  let n = 0n;
  for (const b of ipaddr.parse(address).toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * Where a subnet sits in the taken zsets: `<prefix>/taken/<family>-<len>/<bucket>`, score = its subnet number
 * (address >> host bits) mod 2^52, bucket = the rest in hex. Scores are doubles, exact to 2^53; an IPv4 subnet
 * number always fits (bucket 0), an IPv6 one is split so that ordinary windows (up to 2^52 subnets) sit in one
 * zset in address order.
 */
function takenSlot(prefix: string, family: 4 | 6, address: bigint, len: number): { zset: string; score: number; bucket: bigint } {
  const n = address >> BigInt((family === 4 ? 32 : 128) - len);
  const bucket = n >> 52n;
  return { zset: `${prefix}/taken/${family}-${len}/${bucket.toString(16)}`, score: Number(n & (2n ** 52n - 1n)), bucket };
}

/** The allocate script's ten arguments for one window (see ALLOCATE_LUA); undefined when it cannot be served. */
function windowArgs(prefix: string, w: SubnetWindow | undefined, previous: Cidr | undefined, random: () => number): string[] | undefined {
  if (!w) return ["0", "", "", "", "", "", "", "", "", ""];
  const family = w.network.family;
  const hostBits = (family === 4 ? 32 : 128) - w.subnetLen;
  const min = addrBig(w.subnetMin.address);
  const max = addrBig(w.subnetMax.address);
  const first = takenSlot(prefix, family, min, w.subnetLen);
  const last = takenSlot(prefix, family, max, w.subnetLen);
  if (max < min || first.bucket !== last.bucket) return undefined; // a window over 2^52 subnets: the generic path
  const count = ((max - min) >> BigInt(hostBits)) + 1n;
  let prev = -1n;
  if (previous && subnetFitsWindow(w, previous)) prev = (((addrBig(previous.address) >> BigInt(hostBits)) << BigInt(hostBits)) - min) >> BigInt(hostBits);
  const minArg = family === 4 ? min.toString() : Array.from({ length: 8 }, (_, i) => Number((min >> BigInt(112 - 16 * i)) & 0xffffn)).join(",");
  const r = random();
  const r01 = Number.isFinite(r) ? Math.min(Math.max(r, 0), 0.999999999) : 0;
  return ["1", String(family), minArg, String(hostBits), String(w.subnetLen), String(count), first.zset, String(first.score), String(prev), String(r01)];
}

/** Escapes glob characters for SCAN MATCH / PSUBSCRIBE patterns. */
/**
 * The keyevent channels the watch subscribes to: every event (of the `$`, `g` and `x` classes it enables) after
 * which a key of the prefix may hold a different value or be gone. `expire`/`persist` (TTL-only changes) are left
 * out on purpose (see the module notes); an EXPIRE that deletes the key notifies `del`. `evicted` arrives only
 * when the operator enabled the `e` class.
 */
const KEYEVENTS = ["set", "setrange", "append", "incrby", "incrbyfloat", "del", "expired", "evicted", "rename_from", "rename_to", "move_from", "move_to", "copy_to", "restore"] as const;

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * A {@linkcode LeaseRegistry} on Redis through an ioredis client (standalone or Sentinel; password, ACL user and
 * TLS are the client's options, see `createRedisClient`). See the module notes for the key layout, the atomic
 * scripts and the watch.
 *
 * @example
 * ```ts
 * const registry = new RedisLeaseRegistry(new Redis(6379), { prefix: "/coreos.com/network" });
 * const manager = new LeaseManager(registry);
 * ```
 */
export class RedisLeaseRegistry implements LeaseRegistry {
  readonly name = "redis";
  readonly prefix: string;
  readonly #client: Redis;
  readonly #resyncMs: number;
  readonly #pollMs: number;
  readonly #configure: boolean;
  readonly #now: () => number;
  readonly #onWatchError: ((err: unknown) => void) | undefined;
  readonly #decoded = new Map<string, Lease | null>();
  readonly #keyParts = new Map<string, SubnetKeyParts | null>();
  readonly #scanOwners: boolean;
  readonly #foreignScanMs: number;

  constructor(client: Redis, options: RedisLeaseRegistryOptions = {}) {
    this.#client = client;
    this.prefix = (options.prefix ?? DEFAULT_REDIS_PREFIX).replace(/\/+$/, "");
    this.#resyncMs = options.resyncMs ?? 60_000;
    this.#pollMs = options.pollMs ?? 5_000;
    this.#configure = options.configureNotifications ?? true;
    this.#now = options.now ?? Date.now;
    this.#onWatchError = options.onWatchError;
    this.#scanOwners = options.scanForOwner ?? true;
    this.#foreignScanMs = options.foreignScanMs ?? 1_000;
    if (!(this.#foreignScanMs >= 0 && Number.isFinite(this.#foreignScanMs))) throw new RangeError("RedisLeaseRegistry: foreignScanMs must be 0 or more");
    if (!(this.#resyncMs > 0) || !(this.#pollMs > 0)) throw new RangeError("RedisLeaseRegistry: resyncMs and pollMs must be positive");
  }

  /** The Redis key of a lease: `<prefix>/subnets/<subnet key>`. */
  keyOf(lease: Pick<Lease, "subnet" | "ipv6Subnet">): string {
    return `${this.prefix}/subnets/${leaseKey(lease)}`;
  }

  assignedSubnets(_config: NetConf, _options?: { signal?: AbortSignal }): Promise<AssignedSubnets | undefined> {
    return Promise.resolve(undefined);
  }

  async list(options: ListLeasesOptions = {}): Promise<Lease[]> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const owner = options.ownedBy ? ownerOf(options.ownedBy) : "";
    if (owner !== "") return this.#listForOwner(owner, options.signal);
    const flat = (await this.#eval(LIST, [], [`${globEscape(this.prefix)}/subnets/*`], options.signal)) as (string | number)[];
    const now = this.#now();
    const out: Lease[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const lease = this.#decode(String(flat[i]), String(flat[i + 1]), Number(flat[i + 2]), now);
      if (lease) out.push(lease);
    }
    return out;
  }

  async #listForOwner(owner: string, signal: AbortSignal | undefined): Promise<Lease[]> {
    const pattern = `${globEscape(this.prefix)}/subnets/*`;
    const [keys, found] = (await this.#eval(LIST_FOR_OWNER, [this.#owners, this.#written], [pattern, owner, this.#scanOwners ? "1" : "0"], signal)) as [
      string[],
      (string | number)[],
    ];
    const now = this.#now();
    const subnetsPrefix = `${this.prefix}/subnets/`;
    const out: Lease[] = [];
    const mine = found.length === 3 ? this.#decode(String(found[0]), String(found[1]), Number(found[2]), now) : undefined;
    const mineKey = mine ? String(found[0]) : undefined;
    if (mine) out.push(mine);
    for (const k of keys) {
      if (k === mineKey || !k.startsWith(subnetsPrefix)) continue;
      const parts = this.#partsOf(k, subnetsPrefix);
      if (parts) out.push(parts);
    }
    return out;
  }

  /** The subnets a full key under `<prefix>/subnets/` names (parsed once per key; bounded cache). */
  #partsOf(key: string, subnetsPrefix: string): SubnetKeyParts | null {
    let parts = this.#keyParts.get(key);
    if (parts === undefined) {
      parts = parseSubnetKey(key.slice(subnetsPrefix.length)) ?? null;
      if (this.#keyParts.size >= 20_000) this.#keyParts.clear();
      this.#keyParts.set(key, parts);
    }
    return parts;
  }

  create(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    return this.#write("create", lease, options);
  }

  update(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    return this.#write("update", lease, options);
  }

  /**
   * flannel's acquisition in one Lua script (the optional {@linkcode LeaseRegistry.allocate}): this owner's lease,
   * else the previous subnet if free, else a random free one among the first `candidates` from SubnetMin; the
   * lease, its claims and the indexes are written in the same atomic step, so concurrent acquirers never lose a
   * race. An existing lease of this owner is renewed with `attrs` if it fits `config` (a reservation stays one)
   * and deleted otherwise. Resolves to `undefined` (use the generic path) while leases written outside Weft
   * exist (found by a SCAN at most every `foreignScanMs`) or leases of another SubnetLen live.
   */
  async allocate(config: NetConf, attrs: LeaseAttrs, options: RegistryAllocateOptions = {}): Promise<Lease | undefined> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const owner = ownerOf(attrs);
    if (owner === "") throw new TypeError("allocate: attrs needs publicIp or publicIpv6");
    const ttlMs = options.ttlMs;
    if (ttlMs !== undefined && !(ttlMs >= 1 && Number.isFinite(ttlMs))) throw new RangeError(`ttlMs must be a positive number of ms, got ${ttlMs}`);
    const want = options.candidates ?? 100;
    if (!Number.isInteger(want) || want < 1) throw new RangeError(`options.candidates must be a positive integer, got ${want}`);
    const random = options.random ?? Math.random;
    const windows = windowsOf(config);
    const args = [
      `${this.prefix}/subnets/`,
      `${globEscape(this.prefix)}/subnets/*`,
      owner,
      encodeLeaseAttrs(attrs),
      String(ttlMs === undefined ? 0 : Math.ceil(ttlMs)),
      String(this.#foreignScanMs),
      String(want),
    ];
    for (const [w, prev] of [[windows.v4, options.previousSubnet], [windows.v6, options.previousIpv6Subnet]] as const) {
      const part = windowArgs(this.prefix, w, prev, random);
      if (!part) return undefined;
      args.push(...part);
    }
    const keys = [this.#claims, this.#owners, this.#written, this.#expiries, this.#lengths, this.#index, this.#foreignScan];
    for (let round = 0; round < 3; round++) {
      const reply = (await this.#eval(ALLOCATE, keys, args, signal)) as (string | number)[];
      const kind = String(reply[0]);
      if (kind === "created") {
        const key = String(reply[1]);
        const parts = parseSubnetKey(key.slice(`${this.prefix}/subnets/`.length));
        if (!parts) throw new Error(`allocate: the script wrote an unreadable key ${key}`);
        const pttl = Number(reply[2]);
        return makeLease(parts, attrs, pttl >= 0 ? this.#now() + pttl : undefined);
      }
      if (kind === "full") {
        const w = String(reply[1]) === "6" ? windows.v6 : windows.v4;
        throw new OutOfSubnetsError(w!);
      }
      if (kind !== "existing") return undefined; // "decline"
      const existing = this.#decode(String(reply[1]), String(reply[2]), Number(reply[3]), this.#now());
      if (!existing) return undefined;
      if (leaseFitsConfig(existing, config)) {
        const ttl = existing.expiration === undefined ? undefined : ttlMs; // a reservation stays one
        return await this.update(makeLease(existing, attrs), { ...(ttl !== undefined ? { ttlMs: ttl } : {}), ...(signal ? { signal } : {}) });
      }
      await this.delete(existing, signal ? { signal } : {});
    }
    return undefined;
  }

  async delete(lease: Lease, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const key = this.keyOf(lease);
    const keys = [key, this.#claims, this.#owners, this.#written, this.#expiries, this.#index];
    return Number(await this.#eval(DELETE, keys, [ownerOf(lease), ...this.#subnetKeys(lease).map((k) => k.claim)], options.signal)) === 1;
  }

  watch(options: RegistryWatchOptions): AsyncIterable<RegistryEvent> {
    const { signal } = options;
    const stop = new AbortController();
    const queue = new AsyncQueue<RegistryEvent>(() => stop.abort());
    if (signal.aborted) {
      queue.close();
      return queue;
    }
    const onAbort = () => {
      stop.abort();
      queue.close();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    void this.#runWatch(queue, stop.signal).finally(() => {
      signal.removeEventListener("abort", onAbort);
      queue.close();
    });
    return queue;
  }

  async #runWatch(queue: AsyncQueue<RegistryEvent>, signal: AbortSignal): Promise<void> {
    const subnetsPrefix = `${this.prefix}/subnets/`;
    const db = Number((this.#client.options as { db?: number }).db ?? 0);
    const channels = KEYEVENTS.map((e) => `__keyevent@${db}__:${e}`);
    const sub = this.#client.duplicate({ lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null });
    let notifications = false;
    let relistWanted = true;
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const dirty = new Set<string>();
    sub.on("message", (_channel: string, key: string) => {
      if (!key.startsWith(subnetsPrefix)) return;
      dirty.add(key);
      poke();
    });
    sub.on("ready", () => {
      // (Re)connected: anything may have happened meanwhile (including a server restart). Re-list.
      relistWanted = true;
      poke();
    });
    sub.on("error", (err: unknown) => this.#onWatchError?.(err));
    const onAbort = () => poke();
    signal.addEventListener("abort", onAbort, { once: true });
    let lastList = 0;
    let failures = 0;
    try {
      await sub.connect().catch((err: unknown) => this.#onWatchError?.(err));
      await sub.subscribe(...channels).catch((err: unknown) => this.#onWatchError?.(err));
      while (!signal.aborted) {
        const period = notifications ? this.#resyncMs : this.#pollMs;
        try {
          if (relistWanted || Date.now() - lastList >= period) {
            relistWanted = true;
            if (this.#configure || !notifications) notifications = await this.#ensureNotifications();
            dirty.clear();
            const leases = await this.list();
            if (signal.aborted) break;
            relistWanted = false;
            lastList = Date.now();
            failures = 0;
            queue.push({ type: "snapshot", leases });
          } else if (dirty.size > 0) {
            // Let the event loop read everything the socket already has (a burst of notifications arrives in
            // several socket reads), so a burst is fetched in one round trip.
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (relistWanted) continue;
            const keys = [...dirty];
            dirty.clear();
            const chunks: string[][] = [];
            for (let i = 0; i < keys.length; i += FETCH_CHUNK) chunks.push(keys.slice(i, i + FETCH_CHUNK));
            // All chunks are requested at once (one round trip); each is reported as soon as it has been read, and
            // the next one only after what the consumer scheduled for it has run (a kernel pass starts on the next
            // macrotask), so the kernel writes for the first leases start while the rest are still decoded.
            const replies = chunks.map((c) => this.#eval(FETCH, c, []) as Promise<(string | number | null)[]>);
            for (const r of replies) r.catch(() => undefined); // each is awaited below (or abandoned on abort)
            for (let c = 0; c < chunks.length && !signal.aborted; c++) {
              if (c > 0) await afterConsumers();
              const flat = await replies[c]!;
              if (signal.aborted) break;
              const now = this.#now();
              const chunk = chunks[c]!;
              for (let i = 0; i < chunk.length; i++) {
                const k = chunk[i]!;
                const value = flat[2 * i];
                const pttl = Number(flat[2 * i + 1] ?? -2);
                if (!k.startsWith(subnetsPrefix)) continue;
                if (pttl === -3) {
                  relistWanted = true; // not a string key (GET failed): the re-list sorts it out
                  continue;
                }
                if (value === null || value === undefined) {
                  const parts = this.#partsOf(k, subnetsPrefix);
                  if (parts) queue.push({ type: "removed", lease: makeLease(parts, {}) });
                } else {
                  const lease = this.#decode(k, String(value), pttl, now);
                  if (lease) queue.push({ type: "added", lease });
                }
              }
            }
          }
        } catch (err) {
          if (signal.aborted) break;
          this.#onWatchError?.(err);
          relistWanted = true;
          failures++;
          // flannel's watch reconnect backoff: 100 ms doubling to a 5 s cap.
          await sleep(Math.min(100 * 2 ** (failures - 1), 5_000), signal).catch(() => undefined);
          continue;
        }
        if (relistWanted || dirty.size > 0) continue;
        const waitMs = Math.max(0, lastList + (notifications ? this.#resyncMs : this.#pollMs) - Date.now());
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, waitMs);
          function done() {
            clearTimeout(t);
            resolve();
          }
          wake = done;
          if (signal.aborted || dirty.size > 0 || relistWanted) done();
        });
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      sub.disconnect();
    }
  }

  /** Makes sure keyevent notifications for string and generic events (set, del, expired) are on. */
  async #ensureNotifications(): Promise<boolean> {
    try {
      const reply = (await this.#client.config("GET", "notify-keyspace-events")) as string[];
      const flags = reply[1] ?? "";
      const hasAll = flags.includes("A");
      const needed = ["E", ...(hasAll ? [] : ["$", "g", "x"])].filter((f) => !flags.includes(f));
      if (needed.length === 0) return true;
      if (!this.#configure) return false;
      await this.#client.config("SET", "notify-keyspace-events", flags + needed.join(""));
      return true;
    } catch (err) {
      this.#onWatchError?.(err);
      return false;
    }
  }

  async #write(mode: "create" | "update", lease: Lease, options: RegistryWriteOptions): Promise<Lease> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const ttlMs = options.ttlMs;
    if (ttlMs !== undefined && !(ttlMs >= 1 && Number.isFinite(ttlMs))) throw new RangeError(`ttlMs must be a positive number of ms, got ${ttlMs}`);
    const owner = ownerOf(lease);
    if (owner === "") throw new TypeError("lease needs publicIp or publicIpv6");
    const key = this.keyOf(lease);
    const subnetKeys = this.#subnetKeys(lease);
    const keys = [key, this.#claims, this.#owners, this.#written, this.#expiries, this.#lengths, this.#index, ...subnetKeys.map((k) => k.bare)];
    const value = encodeLeaseAttrs(lease);
    const args = [
      mode,
      value,
      String(ttlMs === undefined ? 0 : Math.ceil(ttlMs)),
      owner,
      "",
      "",
      "",
      ...subnetKeys.map((k) => k.claim),
      ...subnetKeys.flatMap((k) => [k.zset, k.score]),
    ];
    const reply = (await this.#eval(WRITE, keys, args, options.signal)) as [number, string | number];
    if (Number(reply[0]) !== 1) throw new LeaseConflictError(leaseKey(lease), { reason: String(reply[1]) });
    const pttl = Number(reply[1]);
    return makeLease(lease, lease, pttl >= 0 ? this.#now() + pttl : undefined);
  }

  get #claims(): string {
    return `${this.prefix}/claims`;
  }
  get #owners(): string {
    return `${this.prefix}/owners`;
  }
  get #written(): string {
    return `${this.prefix}/leases`;
  }
  get #expiries(): string {
    return `${this.prefix}/expiries`;
  }
  get #lengths(): string {
    return `${this.prefix}/lengths`;
  }
  get #index(): string {
    return `${this.prefix}/index`;
  }
  get #foreignScan(): string {
    return `${this.prefix}/foreign-scan`;
  }

  /** Per subnet: its single-family lease key, its field in the claims hash, its taken zset and score there. */
  #subnetKeys(lease: Lease): { bare: string; claim: string; zset: string; score: string }[] {
    const out: { bare: string; claim: string; zset: string; score: string }[] = [];
    if (lease.subnet) {
      const part = cidrText(lease.subnet).replace("/", "-");
      const slot = takenSlot(this.prefix, 4, addrBig(lease.subnet.address), lease.subnet.prefixLength);
      out.push({ bare: `${this.prefix}/subnets/${part}`, claim: part, zset: slot.zset, score: String(slot.score) });
    }
    if (lease.ipv6Subnet) {
      const part = cidrText(lease.ipv6Subnet).replace("/", "-");
      const slot = takenSlot(this.prefix, 6, addrBig(lease.ipv6Subnet.address), lease.ipv6Subnet.prefixLength);
      out.push({ bare: `${this.prefix}/subnets/0.0.0.0-0&${part}`, claim: part, zset: slot.zset, score: String(slot.score) });
    }
    return out;
  }

  #decode(key: string, value: string, pttl: number, now: number): Lease | undefined {
    // Decoding (key regex, JSON, address validation) costs ~15 µs a lease; lists repeat mostly the same
    // key/value pairs, so decoded leases are cached by key and value (bounded; cleared when it grows).
    const cacheKey = `${key}\n${value}`;
    let lease = this.#decoded.get(cacheKey);
    if (lease === undefined) {
      const subnetsPrefix = `${this.prefix}/subnets/`;
      if (!key.startsWith(subnetsPrefix)) return undefined;
      const parts = this.#partsOf(key, subnetsPrefix);
      try {
        lease = parts ? makeLease(parts, decodeLeaseAttrs(value)) : null; // flannel: "not a subnet, skipping"
      } catch {
        lease = null; // an unreadable value is skipped (flannel logs and skips it too)
      }
      if (this.#decoded.size >= 20_000) this.#decoded.clear();
      this.#decoded.set(cacheKey, lease);
    }
    if (lease === null) return undefined;
    return pttl >= 0 ? { ...lease, expiration: now + pttl } : lease;
  }

  #eval(s: Script, keys: string[], args: string[], signal?: AbortSignal): Promise<unknown> {
    return raceAbort(this.#evalNow(s, keys, args), signal);
  }

  async #evalNow(s: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return await this.#client.eval(s.lua, keys.length, ...keys, ...args);
    }
  }
}
