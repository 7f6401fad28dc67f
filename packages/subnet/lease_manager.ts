import { allocateSubnet } from "@weft/ipam";
import type { Cidr } from "@weft/ipam";
import type { NetConf } from "@weft/netconf";
import type { AcquireOptions, Lease, LeaseAttrs, LeaseEvent, LeaseRegistry, LeaseStore, WatchLeasesOptions } from "./types.ts";
import { LeaseAcquireError, LeaseConflictError, LeaseLostError } from "./errors.ts";
import { leaseFitsConfig } from "./lease_fits_config.ts";
import { watchLeases } from "./lease_watcher.ts";
import { SharedRegistryWatch } from "./_shared_watch.ts";
import { attrsOf, leaseKey, makeLease, sameOwner } from "./_lease.ts";
import { abortReason, raceAbort, sleep } from "./_async.ts";

/** flannel's `subnetTTL`: 24 h. */
export const DEFAULT_LEASE_TTL_MS = 24 * 60 * 60 * 1000;
/** flannel's `--subnet-lease-renew-margin` default: 60 minutes. */
export const DEFAULT_RENEW_MARGIN_MS = 60 * 60 * 1000;

/** Options of {@linkcode LeaseManager}. */
export interface LeaseManagerOptions {
  /** Lease time to live. @default 86_400_000 (24 h, flannel's subnetTTL) */
  ttlMs?: number;
  /** Renew this long before expiry (flannel `--subnet-lease-renew-margin`; must be below `ttlMs`). @default 3_600_000 (60 min) */
  renewMarginMs?: number;
  /** Wait between failed renewals / re-publications (flannel: 1 minute). @default 60_000 */
  retryMs?: number;
  /** Acquisition attempts before {@linkcode LeaseAcquireError} (a lost race costs one; flannel does not retry). @default 50 */
  maxAttempts?: number;
  /** Upper bound of the random pause after a lost race, growing with the attempt number. @default 20 */
  backoffMs?: number;
  /** Random source in [0, 1) for the subnet choice and the backoff. @default Math.random */
  random?: () => number;
  /** Clock in ms since the epoch. @default Date.now */
  now?: () => number;
}

/** Options of {@linkcode LeaseManager.keepAlive}. */
export interface KeepAliveOptions {
  /** Stops the loop (the promise then resolves). */
  signal: AbortSignal;
  /** Called with the lease after each renewal or re-publication. @default none */
  onLease?: (event: { type: "renewed" | "republished"; lease: Lease }) => void;
  /** Called when a renewal or re-publication failed and will be retried after `retryMs`. @default none */
  onError?: (err: unknown) => void;
}

/**
 * flannel's lease logic on any {@linkcode LeaseRegistry}: acquisition (reuse the lease carrying this public IP,
 * else the previous subnet, else a random free one among the first 100), renewal before expiry, release, the
 * watch, and re-publication of the node's lease when it vanishes from the registry. {@linkcode watch} and
 * {@linkcode keepAlive} running at the same time share one registry watch.
 *
 * @example
 * ```ts
 * const manager = new LeaseManager(new MemoryLeaseRegistry());
 * const lease = await manager.acquire(config, { publicIp: parseIp("192.168.1.10"), backendType: "vxlan" });
 * ```
 */
export class LeaseManager implements LeaseStore {
  readonly registry: LeaseRegistry;
  readonly #ttlMs: number;
  readonly #marginMs: number;
  readonly #retryMs: number;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  /** One registry watch for {@linkcode watch} and {@linkcode keepAlive} together (each change is read once). */
  readonly #watch: SharedRegistryWatch;

  constructor(registry: LeaseRegistry, options: LeaseManagerOptions = {}) {
    this.registry = registry;
    this.#watch = new SharedRegistryWatch(registry);
    this.#ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#marginMs = options.renewMarginMs ?? DEFAULT_RENEW_MARGIN_MS;
    this.#retryMs = options.retryMs ?? 60_000;
    this.#maxAttempts = options.maxAttempts ?? 50;
    this.#backoffMs = options.backoffMs ?? 20;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    if (!(this.#ttlMs > 0)) throw new RangeError(`LeaseManager: ttlMs must be positive, got ${this.#ttlMs}`);
    if (!(this.#marginMs > 0 && this.#marginMs < this.#ttlMs)) {
      throw new RangeError(`LeaseManager: renewMarginMs must be between 0 and ttlMs (${this.#ttlMs}), got ${this.#marginMs}`);
    }
    if (!(this.#maxAttempts >= 1)) throw new RangeError(`LeaseManager: maxAttempts must be at least 1, got ${this.#maxAttempts}`);
  }

  /**
   * Acquires this node's lease (flannel's `tryAcquireLease`, with lost races retried):
   * 1. registries that assign subnets themselves (kube) publish that one;
   * 2. a lease carrying this node's public IP is reused (renewed with the new attributes) when it fits `config`,
   *    and deleted otherwise;
   * 3. `options.previousSubnet` (from subnet.env) is used when it fits and no lease holds it;
   * 4. else a random free subnet among the first 100 (`allocateSubnet` of @weft/ipam; `OutOfSubnetsError`,
   *    "out of subnets", when none is free). IPv6 likewise when `config.enableIPv6`.
   * A write that loses a race (LeaseConflictError) starts over with a fresh list, up to `maxAttempts` times.
   * Registries with the optional `allocate` capability (Redis) do steps 2-4 themselves in one atomic step;
   * when they decline a case (`undefined`) the generic list + create path above runs.
   */
  async acquire(config: NetConf, attrs: LeaseAttrs, options: AcquireOptions = {}): Promise<Lease> {
    const signal = options.signal;
    if (config.enableIPv4 && !attrs.publicIp) throw new TypeError("acquire: attrs.publicIp is required when IPv4 is enabled");
    if (config.enableIPv6 && !attrs.publicIpv6) throw new TypeError("acquire: attrs.publicIpv6 is required when IPv6 is enabled");
    if (!config.enableIPv4 && !config.enableIPv6) throw new TypeError("acquire: config enables neither IPv4 nor IPv6");
    const mine = attrsOf(attrs);
    const assigned = await this.registry.assignedSubnets(config, signal ? { signal } : {});
    if (assigned) return this.registry.update(makeLease(assigned, mine), this.#writeOptions(this.#ttlMs, signal));

    if (this.registry.allocate) {
      // The store does the whole choice atomically (no lost races); undefined = it declines this case.
      try {
        const lease = await this.registry.allocate(config, mine, {
          ttlMs: this.#ttlMs,
          random: this.#random,
          ...(options.previousSubnet ? { previousSubnet: options.previousSubnet } : {}),
          ...(options.previousIpv6Subnet ? { previousIpv6Subnet: options.previousIpv6Subnet } : {}),
          ...(signal ? { signal } : {}),
        });
        if (lease) return lease;
      } catch (err) {
        if (!(err instanceof LeaseConflictError)) throw err; // a renewal that lost a race: the generic path decides
      }
    }

    const lost4: Cidr[] = [];
    const lost6: Cidr[] = [];
    let lastConflict: unknown;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      if (attempt > 1 && this.#backoffMs > 0) await sleep(this.#random() * Math.min(this.#backoffMs * attempt, 200), signal);
      // Only my own lease is needed complete; of the others just the subnets (cheap for Redis).
      let leases = await this.registry.list(signal ? { signal, ownedBy: mine } : { ownedBy: mine });
      const existing = leases.find((l) => sameOwner(l, mine));
      try {
        if (existing) {
          if (leaseFitsConfig(existing, config)) {
            const ttl = existing.expiration === undefined ? undefined : this.#ttlMs; // a reservation stays one
            return await this.registry.update(makeLease(existing, mine), this.#writeOptions(ttl, signal));
          }
          await this.registry.delete(existing, signal ? { signal } : {});
          leases = leases.filter((l) => l !== existing);
        }
        const subnets: { subnet?: Cidr; ipv6Subnet?: Cidr } = {};
        if (config.enableIPv4) {
          if (!config.network || !config.subnetLen || !config.subnetMin || !config.subnetMax) {
            throw new TypeError("acquire: config enables IPv4 without network/subnetLen/subnetMin/subnetMax (parse it with check: true)");
          }
          const prev = options.previousSubnet; // used only when it fits the window and is free (allocateSubnet checks)
          subnets.subnet = allocateSubnet(
            { network: config.network, subnetLen: config.subnetLen, subnetMin: config.subnetMin, subnetMax: config.subnetMax },
            { candidates: this.#candidates(attempt), taken: taken(leases, "subnet", lost4), ...(prev ? { previous: prev } : {}), random: this.#random },
          );
        }
        if (config.enableIPv6) {
          if (!config.ipv6Network || !config.ipv6SubnetLen || !config.ipv6SubnetMin || !config.ipv6SubnetMax) {
            throw new TypeError("acquire: config enables IPv6 without ipv6Network/ipv6SubnetLen/ipv6SubnetMin/ipv6SubnetMax");
          }
          const prev = options.previousIpv6Subnet;
          subnets.ipv6Subnet = allocateSubnet(
            { network: config.ipv6Network, subnetLen: config.ipv6SubnetLen, subnetMin: config.ipv6SubnetMin, subnetMax: config.ipv6SubnetMax },
            { candidates: this.#candidates(attempt), taken: taken(leases, "ipv6Subnet", lost6), ...(prev ? { previous: prev } : {}), random: this.#random },
          );
        }
        try {
          return await this.registry.create(makeLease(subnets, mine), this.#writeOptions(this.#ttlMs, signal));
        } catch (err) {
          if (err instanceof LeaseConflictError) {
            if (subnets.subnet) lost4.push(subnets.subnet);
            if (subnets.ipv6Subnet) lost6.push(subnets.ipv6Subnet);
          }
          throw err;
        }
      } catch (err) {
        if (!(err instanceof LeaseConflictError)) throw err;
        lastConflict = err;
      }
    }
    throw new LeaseAcquireError(this.#maxAttempts, { cause: lastConflict });
  }

  /** Renews the lease: rewrites it with a fresh TTL (a reservation, without expiration, stays one). */
  renew(lease: Lease, options: { signal?: AbortSignal } = {}): Promise<Lease> {
    return this.registry.update(lease, this.#writeOptions(lease.expiration === undefined ? undefined : this.#ttlMs, options.signal));
  }

  /** Releases the lease (deletes it if this node still holds it). */
  async release(lease: Lease, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.registry.delete(lease, options);
  }

  /** Watches every other node's lease: a snapshot, then changes; see {@linkcode LeaseWatcher}. */
  watch(options: WatchLeasesOptions): AsyncIterable<LeaseEvent> {
    return watchLeases(this.#watch, options);
  }

  /**
   * Keeps the lease alive until `options.signal` aborts: renews it `renewMarginMs` before expiry (retrying every
   * `retryMs` on failure), and re-publishes it with the same subnet as soon as the registry's watch shows it gone
   * (expired, deleted, or the store restarted without its data). Rejects with {@linkcode LeaseLostError} when
   * another node now holds the subnet (flannel exits with `Lease has been revoked`); the caller then re-acquires.
   */
  async keepAlive(lease: Lease, options: KeepAliveOptions): Promise<void> {
    const { signal } = options;
    const key = leaseKey(lease);
    let current = lease;
    let missing = false;
    let lost: LeaseLostError | undefined;
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const stopWatch = new AbortController();
    const onAbort = () => {
      stopWatch.abort();
      poke();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const watching = (async () => {
      for await (const ev of this.#watch.watch({ signal: stopWatch.signal })) {
        if (ev.type === "snapshot") {
          const held = ev.leases.find((l) => leaseKey(l) === key);
          if (!held) missing = true;
          else if (!sameOwner(held, current)) lost = new LeaseLostError(key);
        } else if (leaseKey(ev.lease) === key) {
          if (ev.type === "removed") missing = true;
          else if (!sameOwner(ev.lease, current)) lost = new LeaseLostError(key);
        }
        if (missing || lost) poke();
      }
    })().catch((err: unknown) => {
      if (!stopWatch.signal.aborted) options.onError?.(err);
    });
    try {
      while (!signal.aborted) {
        if (lost) throw lost;
        const renewAt = current.expiration === undefined ? Infinity : current.expiration - this.#marginMs;
        if (missing || this.#now() >= renewAt) {
          const republish = missing;
          missing = false;
          try {
            current = await raceAbort(this.renew(current, { signal }), signal);
            options.onLease?.({ type: republish ? "republished" : "renewed", lease: current });
            continue;
          } catch (err) {
            if (signal.aborted) break;
            if (err instanceof LeaseConflictError) throw new LeaseLostError(key, { cause: err });
            options.onError?.(err);
            if (republish) missing = true;
            await this.#pause(this.#retryMs, (w) => (wake = w));
            continue;
          }
        }
        await this.#pause(Math.min(renewAt - this.#now(), 2 ** 31 - 1), (w) => (wake = w));
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      stopWatch.abort();
      await watching;
    }
  }

  /** Sleeps up to `ms`, or less when woken. */
  #pause(ms: number, setWake: (w: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        resolve();
      }
      setWake(done);
    });
  }

  /**
   * flannel picks at random among the first 100 free subnets. When many nodes acquire at once they all see the
   * same 100 and most lose the race; after each lost race the window doubles (200, 400, … free subnets), so a
   * herd spreads out instead of colliding again. An uncontended acquisition behaves exactly like flannel's.
   */
  #candidates(attempt: number): number {
    return 100 * 2 ** Math.min(attempt - 1, 10);
  }

  #writeOptions(ttlMs: number | undefined, signal: AbortSignal | undefined): { ttlMs?: number; signal?: AbortSignal } {
    const out: { ttlMs?: number; signal?: AbortSignal } = {};
    if (ttlMs !== undefined) out.ttlMs = ttlMs;
    if (signal) out.signal = signal;
    return out;
  }
}

/** The subnets of one family held by `leases`, plus those lost in races. */
function taken(leases: readonly Lease[], field: "subnet" | "ipv6Subnet", lost: readonly Cidr[]): Cidr[] {
  const out: Cidr[] = [];
  for (const l of leases) {
    const c = l[field];
    if (c) out.push(c);
  }
  for (const c of lost) out.push(c);
  return out;
}
