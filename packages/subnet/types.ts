import type { Cidr, IpAddr } from "@weft/ipam";
import type { NetConf } from "@weft/netconf";

/**
 * What a node publishes about itself with its subnet (flannel's `LeaseAttrs`).
 * Stored in Redis as flannel's JSON `{"PublicIP":…,"PublicIPv6":…,"BackendType":…,"BackendData":…,"BackendV6Data":…}`,
 * in Kubernetes as the node annotations `<prefix>/public-ip`, `<prefix>/backend-type`, …
 */
export interface LeaseAttrs {
  /** The node's IPv4 underlay address; required when IPv4 is enabled. */
  readonly publicIp?: IpAddr;
  /** The node's IPv6 underlay address; required when IPv6 is enabled. */
  readonly publicIpv6?: IpAddr;
  /** Backend type, e.g. `vxlan`, `host-gw`, `udp`. */
  readonly backendType?: string;
  /** Backend data (any JSON value), e.g. `{ VNI: 1, VtepMAC: "c6:d2:32:6f:8f:44" }`. */
  readonly backendData?: unknown;
  /** IPv6 backend data (any JSON value). */
  readonly backendV6Data?: unknown;
}

/**
 * One node's subnet lease. Its identity is its subnet key ({@linkcode formatSubnetKey}:
 * `10.244.1.0-24`, dual-stack `10.244.1.0-24&fd00:1::-64`).
 */
export interface Lease extends LeaseAttrs {
  /** The IPv4 subnet; absent only on an IPv6-only network. */
  readonly subnet?: Cidr;
  /** The IPv6 subnet when the network is dual-stack or IPv6-only. */
  readonly ipv6Subnet?: Cidr;
  /** When the lease expires, in ms since the epoch; absent = never (a reservation, or the kube registry). */
  readonly expiration?: number;
}

/**
 * What a registry's raw watch yields. A `snapshot` is the complete current set (always first, and again after
 * every reconnect or periodic resync); `added` also reports a changed lease (same key, new attributes or
 * expiration); `removed` reports a deletion or an expiry. {@linkcode LeaseWatcher} turns this into a
 * de-duplicated stream of changes.
 */
export type RegistryEvent =
  | { readonly type: "snapshot"; readonly leases: readonly Lease[] }
  | { readonly type: "added"; readonly lease: Lease }
  | { readonly type: "removed"; readonly lease: Lease };

/**
 * What consumers of {@linkcode LeaseStore.watch} receive: one `snapshot` of the other nodes' leases first,
 * then only changes. `added` means new or changed attributes (a renewal that changes nothing is not reported).
 * The node's own lease is never reported as added/removed; if it disappears from the registry (expired,
 * deleted, registry restarted without data) a distinct `own-removed` is yielded once (until it reappears).
 */
export type LeaseEvent =
  | { readonly type: "snapshot"; readonly leases: readonly Lease[] }
  | { readonly type: "added"; readonly lease: Lease }
  | { readonly type: "removed"; readonly lease: Lease }
  | { readonly type: "own-removed"; readonly lease: Lease };

/** Options of {@linkcode LeaseRegistry.list}. */
export interface ListLeasesOptions {
  signal?: AbortSignal;
  /**
   * The caller (the manager acquiring) needs only the subnets of every lease, plus the complete lease(s) whose
   * owner is this one's (`publicIp`, or `publicIpv6` without one). A registry may then return the other leases
   * with their subnets only (no attributes, no expiration), which for Redis avoids reading every value.
   * Registries that have everything at hand anyway (memory, kube informer cache) may ignore it.
   * @default undefined (every lease complete)
   */
  ownedBy?: LeaseAttrs;
}

/** Options shared by registry writes. */
export interface RegistryWriteOptions {
  /** Time to live of the written lease in ms; `undefined` = no expiry (a reservation). Ignored by registries without TTLs (kube). */
  ttlMs?: number;
  /** Aborts the call. @default none */
  signal?: AbortSignal;
}

/** Options of {@linkcode LeaseRegistry.watch}. */
export interface RegistryWatchOptions {
  /** Ends the stream (the iterator returns) when aborted. Required: watches run until told to stop. */
  signal: AbortSignal;
}

/**
 * The narrow storage interface under {@linkcode LeaseManager} (flannel's etcd `Registry`). Implementations:
 * `MemoryLeaseRegistry`, `RedisLeaseRegistry`, and the Kubernetes registry (`kube_*.ts`).
 *
 * Contract (tested by the shared manager suite against every registry):
 * - Identity. A lease is identified by its subnet key (`formatSubnetKey`); its OWNER is its public IP
 *   (`publicIp`, or `publicIpv6` on an IPv6-only network). Two leases never hold the same IPv4 subnet or the same
 *   IPv6 subnet at the same time, whatever the interleaving of callers on any number of machines.
 * - `assignedSubnets(config)`: registries whose platform assigns subnets itself (kube: `node.spec.podCIDRs`)
 *   return them (validated against `config`, throwing flannel's error texts); the manager then publishes exactly
 *   that subnet with `update`. Registries where the manager allocates (memory, Redis) return `undefined`.
 * - `list()`: every live lease (expired ones excluded), in any order. With `ownedBy`, leases of other owners may
 *   carry their subnets only (see {@linkcode ListLeasesOptions}).
 * - `create(lease)`: atomically creates the lease if neither its key nor its IPv4 nor its IPv6 subnet is held by
 *   a live lease; otherwise throws {@linkcode LeaseConflictError} and changes nothing. Returns the stored lease
 *   (with `expiration` set from `ttlMs`).
 * - `update(lease)`: atomically writes the lease (new attributes and a fresh TTL) if its key is absent (it is then
 *   re-created, with the same subnet checks as `create`) or is held by the same owner; throws
 *   {@linkcode LeaseConflictError} if a different owner holds the key or one of its subnets. Used for renewal,
 *   re-publication after loss, and attribute changes.
 * - `delete(lease)`: removes the lease's key if it is held by the same owner; deleting an absent lease is not an
 *   error; deleting another owner's lease is a no-op that resolves to `false`.
 * - `watch({ signal })`: an async stream that yields a `snapshot` first, then `added` / `removed` (expiry is
 *   `removed`), and a fresh `snapshot` whenever it may have missed events (reconnect, resync). It must keep going
 *   across connection loss and restarts of the backing service until `signal` aborts; it may be consumed by
 *   several watchers at once (each call is an independent stream). It reports every lease, the node's own included.
 * - Transient failures (connection down) surface as rejected promises from list/create/update/delete; the manager
 *   retries where that is safe.
 * - `allocate(config, attrs)` (OPTIONAL capability): flannel's whole acquisition (steps 2-4 of
 *   `LeaseManager.acquire`: reuse the lease carrying this owner if it fits `config`, else delete it; else the
 *   previous subnet if free and fitting; else a random free subnet among the first `candidates` walking from
 *   SubnetMin; per family) done by the store itself, atomically (Redis: one Lua script), so concurrent
 *   acquirers never lose races. It gives the same results as the manager's generic list + create path, and
 *   the same guarantees as `create`/`update`. Throws `OutOfSubnetsError` (`out of subnets`) when a window is
 *   full. Resolves to `undefined` when the registry cannot decide a case itself (e.g. Redis when leases
 *   written by hand exist); the manager then runs its generic path. Registries without it just leave it out.
 */
export interface LeaseRegistry {
  /** Short name for logs: `memory`, `redis`, `kube`. */
  readonly name: string;
  assignedSubnets(config: NetConf, options?: { signal?: AbortSignal }): Promise<AssignedSubnets | undefined>;
  list(options?: ListLeasesOptions): Promise<Lease[]>;
  create(lease: Lease, options?: RegistryWriteOptions): Promise<Lease>;
  update(lease: Lease, options?: RegistryWriteOptions): Promise<Lease>;
  delete(lease: Lease, options?: { signal?: AbortSignal }): Promise<boolean>;
  watch(options: RegistryWatchOptions): AsyncIterable<RegistryEvent>;
  /** Optional: the whole acquisition in the store (see the contract above); `undefined` = use the generic path. */
  allocate?(config: NetConf, attrs: LeaseAttrs, options?: RegistryAllocateOptions): Promise<Lease | undefined>;
}

/** Options of {@linkcode LeaseRegistry.allocate}. */
export interface RegistryAllocateOptions {
  /** The IPv4 subnet this node had before; used when it fits `config` and is free. @default none */
  previousSubnet?: Cidr;
  /** The IPv6 subnet this node had before. @default none */
  previousIpv6Subnet?: Cidr;
  /** TTL of a new or reused lease in ms (a reused reservation, without expiration, stays one). @default undefined (no expiry) */
  ttlMs?: number;
  /** How many free subnets to collect before picking one at random (flannel: 100). @default 100 */
  candidates?: number;
  /** Random source in [0, 1) for the choice. @default Math.random */
  random?: () => number;
  /** Aborts the call. @default none */
  signal?: AbortSignal;
}

/** Subnets a platform assigned to this node (see {@linkcode LeaseRegistry.assignedSubnets}). */
export interface AssignedSubnets {
  readonly subnet?: Cidr;
  readonly ipv6Subnet?: Cidr;
}

/** Options of {@linkcode LeaseStore.acquire}. */
export interface AcquireOptions {
  /** The IPv4 subnet this node had before (from subnet.env `FLANNEL_SUBNET`); reused when free and fitting. @default none */
  previousSubnet?: Cidr;
  /** The IPv6 subnet this node had before (`FLANNEL_IPV6_SUBNET`). @default none */
  previousIpv6Subnet?: Cidr;
  signal?: AbortSignal;
}

/** Options of {@linkcode LeaseStore.watch}. */
export interface WatchLeasesOptions {
  /** Ends the stream when aborted. */
  signal: AbortSignal;
  /** This node's lease (or a getter, when it may change): never reported as added/removed; its loss is `own-removed`. @default none */
  ownLease?: Lease | (() => Lease | undefined);
}

/**
 * What the node agent uses: acquire this node's lease, renew it, release it, watch everybody's.
 * {@linkcode LeaseManager} implements it over any {@linkcode LeaseRegistry}.
 */
export interface LeaseStore {
  acquire(config: NetConf, attrs: LeaseAttrs, options?: AcquireOptions): Promise<Lease>;
  renew(lease: Lease, options?: { signal?: AbortSignal }): Promise<Lease>;
  release(lease: Lease, options?: { signal?: AbortSignal }): Promise<void>;
  watch(options: WatchLeasesOptions): AsyncIterable<LeaseEvent>;
}
