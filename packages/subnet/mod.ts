/**
 * Subnet leases: every node holds a subnet no other node holds, and learns every other node's subnet and public
 * address as they come and go (flannel's subnet managers, on Redis, Kubernetes Node objects or memory).
 *
 * Layers (STYLE 17): a narrow {@linkcode LeaseRegistry} stores leases (`MemoryLeaseRegistry`, `RedisLeaseRegistry`,
 * the Kubernetes registry); {@linkcode LeaseManager} implements flannel's acquisition / renewal / re-publication
 * on any registry; {@linkcode LeaseWatcher} turns a registry's snapshots and events into de-duplicated
 * added/removed changes without the node's own lease. The registry contract is documented on `LeaseRegistry` in
 * `types.ts` and in the README.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { parseIp } from "@weft/ipam";
 * import { LeaseManager, RedisLeaseRegistry, readRedisNetConf } from "@weft/subnet";
 *
 * const redis = new Redis({ host: "127.0.0.1", port: 6379 });
 * const registry = new RedisLeaseRegistry(redis, { prefix: "/coreos.com/network" });
 * const config = await readRedisNetConf(redis);
 * const manager = new LeaseManager(registry);
 * const lease = await manager.acquire(config, { publicIp: parseIp("192.168.1.10"), backendType: "vxlan" });
 * const stop = new AbortController();
 * manager.keepAlive(lease, { signal: stop.signal }).catch((err) => console.error(err)); // LeaseLostError: re-acquire
 * for await (const event of manager.watch({ signal: stop.signal, ownLease: lease })) console.log(event.type);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./errors.ts";
export * from "./subnet_key.ts";
export * from "./lease_json.ts";
export * from "./lease_fits_config.ts";
export * from "./lease_watcher.ts";
export * from "./lease_manager.ts";
export * from "./memory_lease_registry.ts";
export * from "./redis_lease_registry.ts";
export * from "./redis_net_conf.ts";
export * from "./redis_client.ts";
export * from "./kube_lease_registry.ts";
