import type { NetConf } from "@weft/netconf";
import type { AssignedSubnets, Lease, LeaseRegistry, ListLeasesOptions, RegistryEvent, RegistryWatchOptions, RegistryWriteOptions } from "./types.ts";
import { LeaseConflictError } from "./errors.ts";
import { leaseKey, makeLease, sameOwner } from "./_lease.ts";
import { cidrText } from "./_ip.ts";
import { AsyncQueue, abortReason } from "./_async.ts";

/** Options of {@linkcode MemoryLeaseRegistry}. */
export interface MemoryLeaseRegistryOptions {
  /** Clock in ms since the epoch, for expirations. @default Date.now */
  now?: () => number;
}

/**
 * An in-process {@linkcode LeaseRegistry}: a real store for a single process (several managers sharing one
 * instance behave like nodes sharing a Redis), and the fake for consumers' unit tests. TTLs expire with real
 * timers (unref'd) and are reported as `removed`. Operations are asynchronous (they yield once) so that callers
 * see interleavings like with a remote store; each one is atomic.
 *
 * @example
 * ```ts
 * const registry = new MemoryLeaseRegistry();
 * const a = new LeaseManager(registry);
 * const lease = await a.acquire(config, { publicIp: parseIp("192.168.1.10") });
 * ```
 */
export class MemoryLeaseRegistry implements LeaseRegistry {
  readonly name = "memory";
  readonly #now: () => number;
  #leases = new Map<string, Lease>();
  #timers = new Map<string, NodeJS.Timeout>();
  #watchers = new Set<AsyncQueue<RegistryEvent>>();

  constructor(options: MemoryLeaseRegistryOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  assignedSubnets(_config: NetConf, _options?: { signal?: AbortSignal }): Promise<AssignedSubnets | undefined> {
    return Promise.resolve(undefined);
  }

  async list(options: ListLeasesOptions = {}): Promise<Lease[]> {
    await tick(options.signal);
    return [...this.#leases.values()];
  }

  async create(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    await tick(options.signal);
    const key = leaseKey(lease);
    if (this.#leases.has(key)) throw new LeaseConflictError(key, { reason: "the key exists" });
    this.#checkSubnets(key, lease);
    return this.#put(key, lease, options.ttlMs);
  }

  async update(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    await tick(options.signal);
    const key = leaseKey(lease);
    const held = this.#leases.get(key);
    if (held && !sameOwner(held, lease)) throw new LeaseConflictError(key, { reason: "the key is held by another owner" });
    if (!held) this.#checkSubnets(key, lease);
    return this.#put(key, lease, options.ttlMs);
  }

  async delete(lease: Lease, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    await tick(options.signal);
    const key = leaseKey(lease);
    const held = this.#leases.get(key);
    if (!held || !sameOwner(held, lease)) return false;
    this.#remove(key);
    return true;
  }

  watch(options: RegistryWatchOptions): AsyncIterable<RegistryEvent> {
    const queue: AsyncQueue<RegistryEvent> = new AsyncQueue(() => {
      this.#watchers.delete(queue);
      options.signal.removeEventListener("abort", onAbort);
    });
    const onAbort = () => {
      this.#watchers.delete(queue);
      queue.close();
    };
    if (options.signal.aborted) {
      queue.close();
      return queue;
    }
    options.signal.addEventListener("abort", onAbort, { once: true });
    queue.push({ type: "snapshot", leases: [...this.#leases.values()] });
    this.#watchers.add(queue);
    return queue;
  }

  /**
   * Test aid for the "store restarted" cases: drops every lease without reporting anything (as a restarted
   * server without persistence would), then sends every watcher a fresh snapshot (as a reconnect would).
   */
  simulateRestart(options: { keepData?: boolean } = {}): void {
    if (!options.keepData) {
      for (const t of this.#timers.values()) clearTimeout(t);
      this.#timers.clear();
      this.#leases.clear();
    }
    for (const w of this.#watchers) w.push({ type: "snapshot", leases: [...this.#leases.values()] });
  }

  #checkSubnets(key: string, lease: Lease): void {
    for (const [k, held] of this.#leases) {
      if (k === key) continue;
      const clash =
        (lease.subnet && held.subnet && cidrText(lease.subnet) === cidrText(held.subnet)) ||
        (lease.ipv6Subnet && held.ipv6Subnet && cidrText(lease.ipv6Subnet) === cidrText(held.ipv6Subnet));
      if (clash) throw new LeaseConflictError(key, { reason: `a subnet is held by lease ${k}` });
    }
  }

  #put(key: string, lease: Lease, ttlMs: number | undefined): Lease {
    const stored = makeLease(lease, lease, ttlMs === undefined ? undefined : this.#now() + ttlMs);
    this.#leases.set(key, stored);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    if (ttlMs !== undefined) {
      const t = setTimeout(() => {
        if (this.#leases.get(key) === stored) this.#remove(key);
      }, ttlMs);
      t.unref();
      this.#timers.set(key, t);
    }
    for (const w of this.#watchers) w.push({ type: "added", lease: stored });
    return stored;
  }

  #remove(key: string): void {
    const lease = this.#leases.get(key);
    if (!lease) return;
    this.#leases.delete(key);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    for (const w of this.#watchers) w.push({ type: "removed", lease });
  }
}

async function tick(signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  await new Promise<void>((r) => setImmediate(r));
  if (signal?.aborted) throw abortReason(signal);
}
