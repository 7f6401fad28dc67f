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
 *
 * Atomicity: create/update/delete are Lua scripts (EVALSHA, EVAL on NOSCRIPT). A write checks, in one atomic
 * step, the lease key (absent for create; absent or same owner — same `PublicIP`, or `PublicIPv6` on an
 * IPv6-only network — for update), the single-family lease keys of its subnets (leases written by hand without
 * claims) and the claims of its subnets, then writes the lease, its claims and the indexes. So no interleaving of
 * any number of clients can give one subnet to two live leases.
 *
 * Acquisition reads one script: all lease keys (SCAN, no values) plus this node's complete lease, if any. The
 * watch and `list()` read everything (SCAN + GET + PTTL in one script: one round trip, an atomic snapshot).
 *
 * Watch: keyspace notifications (`__keyspace@<db>__:<prefix>/subnets/*`, enabled with CONFIG SET
 * `notify-keyspace-events` += `K$gx` when allowed, re-applied after every reconnect since a restarted server
 * forgets it) are only a trigger: each notified key is re-read (GET + PTTL) and reported as added or removed.
 * The truth is a re-list, emitted as a `snapshot`: at start, after every (re)connection of the subscriber, and
 * every `resyncMs` (every `pollMs` when notifications cannot be enabled). The LeaseWatcher diffs snapshots, so
 * missed events, restarts with or without data, and expiries all converge.
 *
 * Not supported: Redis Cluster (the list script touches keys it does not declare) and ioredis' `keyPrefix`.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { NetConf } from "@weft/netconf";
import type { AssignedSubnets, Lease, LeaseRegistry, ListLeasesOptions, RegistryEvent, RegistryWatchOptions, RegistryWriteOptions } from "./types.ts";
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
  /** Full re-list period of a watch while keyspace notifications work. @default 60_000 */
  resyncMs?: number;
  /** Re-list period of a watch when keyspace notifications cannot be enabled. @default 5_000 */
  pollMs?: number;
  /** Enable keyspace notifications with CONFIG SET when they are off (errors are tolerated). @default true */
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

// KEYS: lease key, claims hash, owners hash, Weft-written set, then the single-family lease key of each subnet.
// ARGV: mode ("create" | "update"), value, px (0 = no expiry), owner, then the claim field of each subnet.
const WRITE_LUA = `${OWNER_LUA}
local key, claims, owners, written = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, value, px, owner = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local cur = redis.call("GET", key)
if cur then
  if mode == "create" then return {0, "the key exists"} end
  if owner_of(cur) ~= owner then return {0, "the key is held by another owner"} end
end
for i = 5, #KEYS do
  local bare = KEYS[i]
  if bare ~= key and redis.call("EXISTS", bare) == 1 then return {0, "a subnet is held by " .. bare} end
  local holder = redis.call("HGET", claims, ARGV[i])
  if holder and holder ~= key and redis.call("EXISTS", holder) == 1 then return {0, "a subnet is held by " .. holder} end
end
if px > 0 then redis.call("SET", key, value, "PX", px) else redis.call("SET", key, value) end
for i = 5, #KEYS do redis.call("HSET", claims, ARGV[i], key) end
redis.call("HSET", owners, owner, key)
redis.call("SADD", written, key)
return {1, redis.call("PTTL", key)}
`;

// KEYS: lease key, claims hash, owners hash, Weft-written set. ARGV: owner, then the claim fields.
const DELETE_LUA = `${OWNER_LUA}
local key, claims, owners, written = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cur = redis.call("GET", key)
if not cur or owner_of(cur) ~= ARGV[1] then return 0 end
redis.call("DEL", key)
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

interface Script {
  lua: string;
  sha: string;
}
const script = (lua: string): Script => ({ lua, sha: createHash("sha1").update(lua).digest("hex") });
const WRITE = script(WRITE_LUA);
const DELETE = script(DELETE_LUA);
const LIST = script(LIST_LUA);
const LIST_FOR_OWNER = script(LIST_FOR_OWNER_LUA);

/** Escapes glob characters for SCAN MATCH / PSUBSCRIBE patterns. */
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

  constructor(client: Redis, options: RedisLeaseRegistryOptions = {}) {
    this.#client = client;
    this.prefix = (options.prefix ?? DEFAULT_REDIS_PREFIX).replace(/\/+$/, "");
    this.#resyncMs = options.resyncMs ?? 60_000;
    this.#pollMs = options.pollMs ?? 5_000;
    this.#configure = options.configureNotifications ?? true;
    this.#now = options.now ?? Date.now;
    this.#onWatchError = options.onWatchError;
    this.#scanOwners = options.scanForOwner ?? true;
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
      let parts = this.#keyParts.get(k);
      if (parts === undefined) {
        parts = parseSubnetKey(k.slice(subnetsPrefix.length)) ?? null;
        if (this.#keyParts.size >= 20_000) this.#keyParts.clear();
        this.#keyParts.set(k, parts);
      }
      if (parts) out.push(parts);
    }
    return out;
  }

  create(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    return this.#write("create", lease, options);
  }

  update(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    return this.#write("update", lease, options);
  }

  async delete(lease: Lease, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const key = this.keyOf(lease);
    const keys = [key, this.#claims, this.#owners, this.#written];
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
    const channelPrefix = `__keyspace@${db}__:`;
    const pattern = `${channelPrefix}${globEscape(subnetsPrefix)}*`;
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
    sub.on("pmessage", (_p: string, channel: string) => {
      if (!channel.startsWith(channelPrefix)) return;
      dirty.add(channel.slice(channelPrefix.length));
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
      await sub.psubscribe(pattern).catch((err: unknown) => this.#onWatchError?.(err));
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
            const keys = [...dirty];
            dirty.clear();
            const pipe = this.#client.pipeline();
            for (const k of keys) pipe.get(k).pttl(k);
            const results = (await pipe.exec()) ?? [];
            if (signal.aborted) break;
            const now = this.#now();
            keys.forEach((k, i) => {
              const [getErr, value] = results[2 * i] ?? [null, null];
              const [, pttl] = results[2 * i + 1] ?? [null, -2];
              if (!k.startsWith(subnetsPrefix)) return;
              if (getErr) return void (relistWanted = true);
              if (value === null || value === undefined) {
                const parts = parseSubnetKey(k.slice(subnetsPrefix.length));
                if (parts) queue.push({ type: "removed", lease: makeLease(parts, {}) });
              } else {
                const lease = this.#decode(k, String(value), Number(pttl), now);
                if (lease) queue.push({ type: "added", lease });
              }
            });
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

  /** Makes sure keyspace notifications for string and generic events (set, del, expired) are on. */
  async #ensureNotifications(): Promise<boolean> {
    try {
      const reply = (await this.#client.config("GET", "notify-keyspace-events")) as string[];
      const flags = reply[1] ?? "";
      const hasAll = flags.includes("A");
      const needed = ["K", ...(hasAll ? [] : ["$", "g", "x"])].filter((f) => !flags.includes(f));
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
    const keys = [key, this.#claims, this.#owners, this.#written, ...subnetKeys.map((k) => k.bare)];
    const value = encodeLeaseAttrs(lease);
    const args = [mode, value, String(ttlMs === undefined ? 0 : Math.ceil(ttlMs)), owner, ...subnetKeys.map((k) => k.claim)];
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

  /** Per subnet: its single-family lease key and its field in the claims hash. */
  #subnetKeys(lease: Lease): { bare: string; claim: string }[] {
    const out: { bare: string; claim: string }[] = [];
    if (lease.subnet) {
      const part = cidrText(lease.subnet).replace("/", "-");
      out.push({ bare: `${this.prefix}/subnets/${part}`, claim: part });
    }
    if (lease.ipv6Subnet) {
      const part = cidrText(lease.ipv6Subnet).replace("/", "-");
      out.push({ bare: `${this.prefix}/subnets/0.0.0.0-0&${part}`, claim: part });
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
      const parts = parseSubnetKey(key.slice(subnetsPrefix.length));
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
