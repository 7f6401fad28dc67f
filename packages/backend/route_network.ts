import type { Cidr } from "@weft/ipam";
import type { IpRoute, IpSession } from "@weft/iproute";
import type { Lease, LeaseEvent } from "@weft/subnet";
import { sleep } from "./_sleep.ts";
import { diffEntries, isEmptyEntries, mergeEntries, type EntriesDiff, type KernelEntries } from "./kernel_entries.ts";
import { noopLogger } from "./logger.ts";
import { PeerError } from "./peer_error.ts";
import { iprouteEntries, type EntriesKernel, type EntryOwnership } from "./reconcile_entries.ts";
import type { Logger, Network } from "./types.ts";

/** Options for {@linkcode RouteNetwork}. */
export interface RouteNetworkOptions {
  /** Lower-cased backend type; leases of other types are ignored. */
  readonly backendType: string;
  /** This node's lease (never programmed as a peer). */
  readonly lease: Lease;
  /** The MTU to report. */
  readonly mtu: number;
  /** Kernel access in the node's namespace. */
  readonly iproute: IpRoute;
  /** Which kernel entries this network owns (only those are ever removed). */
  readonly ownership: EntryOwnership;
  /** How entries are read and written; @default iprouteEntries(iproute), writing small batches through `ipSession` when given */
  readonly kernel?: EntriesKernel;
  /**
   * Opens a long-lived `ip -batch -` session in the namespace of `iproute` (unused when `kernel` is given).
   * Opened at the first `ip` write, closed when {@linkcode RouteNetwork.run} ends (later writes start
   * `ip` per batch). @default none
   */
  readonly ipSession?: () => IpSession;
  /** @default noopLogger */
  readonly logger?: Logger;
  /** Period of the re-check in {@linkcode RouteNetwork.run}; @default 10000 (flannel's routeCheck) */
  readonly resyncMs?: number;
  /**
   * A pass about to start waits until no lease event has arrived for this long, so a burst whose
   * events arrive spread over a few ms (1,000 leases written at once reach weftd over 10–30 ms) is
   * written in one pass instead of 2–4. A lone event pays this once. 0 = start on the next
   * macrotask. @default 3
   */
  readonly burstQuietMs?: number;
  /** The most a pass waits for a quiet gap ({@linkcode burstQuietMs}) in all. @default 25 */
  readonly burstMaxWaitMs?: number;
}

/** What one reconcile pass did. */
export interface ReconcileReport {
  /** The changes applied (empty when the kernel already matched). */
  readonly diff: EntriesDiff;
  /** Peers (by subnet) whose entries could not be computed or programmed in this pass. */
  readonly peerErrors: ReadonlyMap<string, Error>;
}

/** The text key of a CIDR (`10.244.2.0/24`). */
export function cidrText(c: Cidr): string {
  return `${c.address}/${c.prefixLength}`;
}

/** The key a peer is tracked by: its IPv4 subnet, else its IPv6 subnet. */
export function peerKey(lease: Pick<Lease, "subnet" | "ipv6Subnet">): string | undefined {
  const c = lease.subnet ?? lease.ipv6Subnet;
  return c ? cidrText(c) : undefined;
}

/**
 * The shared base of route-programming networks (flannel's `RouteNetwork`, generalised to
 * neighbours and FDB entries so vxlan uses it too). A subclass says only what one peer needs
 * ({@linkcode peerEntries}); the base keeps the peer set from lease events and programs the
 * kernel in two kinds of passes, each written as one batch:
 *
 * - **full** (first pass, every `snapshot`, every {@linkcode reconcile} / periodic check): reads
 *   what the kernel has, diffs against every peer's entries and applies only the difference. A
 *   snapshot after a restart therefore also removes entries of peers that left meanwhile
 *   (flannel keeps them), and an entry deleted by someone else comes back within `resyncMs`.
 * - **incremental** (`added` / `removed`): diffs only the changed peers against what was last
 *   programmed for them, without reading the kernel — O(changed peers), so a burst of 1,000
 *   added leases costs 1,000 small diffs, not 1,000 kernel listings. A changed lease (new
 *   VtepMAC or public IP) writes the new entries and deletes the stale ones (flannel leaks the
 *   old FDB entry). If the batch fails, a full pass runs instead.
 *
 * When a full pass's batch fails, each peer is applied on its own so one bad peer (e.g. a host-gw
 * peer off this node's L2) gets a {@linkcode PeerError} while all others are served.
 *
 * Passes never overlap and start on the next macrotask (`setImmediate`) after they are requested,
 * and then only once no lease event has arrived for `burstQuietMs` (at most `burstMaxWaitMs`), so
 * a burst of lease events, in one tick or spread over a few ms, goes into one pass. Changes that
 * arrive during a pass are merged into the next one, so a caller that does not await each
 * {@linkcode handleLeaseEvent} gets them applied in a few batches.
 */
export abstract class RouteNetwork implements Network {
  readonly lease: Lease;
  readonly mtu: number;
  readonly backendType: string;
  protected readonly iproute: IpRoute;
  protected readonly log: Logger;
  protected ownership: EntryOwnership;
  protected readonly kernel: EntriesKernel;
  readonly #resyncMs: number;
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  /** When the last lease event arrived (performance.now()). */
  #lastEventAt = 0;
  /** Desired peers by key. */
  readonly #peers = new Map<string, Lease>();
  /** What the last successful write programmed, per peer key. */
  readonly #applied = new Map<string, KernelEntries>();
  /** Peers changed since the last pass (incremental work). */
  readonly #dirty = new Set<string>();
  /** The next pass must be a full one. */
  #full = true;
  #errors = new Map<string, Error>();
  #running: Promise<ReconcileReport> | undefined;
  #starting: Promise<ReconcileReport> | undefined;
  #again: Promise<ReconcileReport> | undefined;
  readonly #openSession: (() => IpSession) | undefined;
  #session: IpSession | undefined;
  #sessionEnded = false;

  constructor(options: RouteNetworkOptions) {
    this.lease = options.lease;
    this.mtu = options.mtu;
    this.backendType = options.backendType.toLowerCase();
    this.iproute = options.iproute;
    this.ownership = options.ownership;
    this.#openSession = options.kernel ? undefined : options.ipSession;
    this.kernel = options.kernel ?? iprouteEntries(options.iproute, { session: () => this.#currentSession() });
    this.log = options.logger ?? noopLogger;
    this.#resyncMs = options.resyncMs ?? 10_000;
    this.#quietMs = options.burstQuietMs ?? 3;
    this.#maxWaitMs = options.burstMaxWaitMs ?? 25;
    if (!(this.#quietMs >= 0)) throw new RangeError(`burstQuietMs must be a number >= 0, got ${this.#quietMs}`);
    if (!(this.#maxWaitMs >= 0)) throw new RangeError(`burstMaxWaitMs must be a number >= 0, got ${this.#maxWaitMs}`);
  }

  /**
   * The kernel entries one peer needs. Throw a {@linkcode PeerError} (or any error) for a peer
   * that cannot be served; the other peers are unaffected.
   */
  protected abstract peerEntries(peer: Lease): Promise<KernelEntries> | KernelEntries;

  /** Runs before every full pass (vxlan makes sure its device exists, is up and has its address). */
  protected async beforeReconcile(): Promise<void> {}

  /**
   * Long-running watchers besides the periodic re-check (vxlan's link monitor). Call `trigger`
   * to request a full pass. Must resolve when `signal` aborts.
   */
  protected async watch(signal: AbortSignal, trigger: () => void): Promise<void> {
    void signal;
    void trigger;
  }

  /** The peers currently programmed or being programmed, by subnet. */
  peers(): ReadonlyMap<string, Lease> {
    return this.#peers;
  }

  peerErrors(): ReadonlyMap<string, Error> {
    return this.#errors;
  }

  /**
   * Applies one lease event; resolves once the kernel reflects it (and every event before it).
   * Rejects only when the kernel could not be read or written at all; the periodic check retries.
   */
  async handleLeaseEvent(event: LeaseEvent): Promise<void> {
    switch (event.type) {
      case "snapshot":
        this.#peers.clear();
        for (const lease of event.leases) this.#admit(lease);
        this.#full = true;
        break;
      case "added": {
        const key = this.#forget(event.lease);
        this.#admit(event.lease);
        if (key) this.#dirty.add(key);
        break;
      }
      case "removed": {
        const key = this.#forget(event.lease);
        if (key && !this.#peers.has(key)) this.log.info({ subnet: key }, "peer removed");
        if (key) this.#dirty.add(key);
        break;
      }
      case "own-removed":
        this.log.warn({ subnet: peerKey(event.lease) }, "this node's lease disappeared from the store; keeping routes");
        return;
      default:
        this.log.error({ event }, "unknown lease event type");
        return;
    }
    this.#lastEventAt = performance.now();
    await this.#schedule();
  }

  /**
   * Converges the kernel on the current peer set now with a full pass (reads the kernel, repairs
   * what differs). A call made while a pass runs resolves after the next pass.
   */
  reconcile(): Promise<ReconcileReport> {
    this.#full = true;
    return this.#schedule();
  }

  async run(signal: AbortSignal): Promise<void> {
    const trigger = (): void => {
      this.reconcile().catch((err: unknown) => this.log.error({ err }, "reconcile failed"));
    };
    const watching = this.watch(signal, trigger).catch((err: unknown) => this.log.error({ err }, "watcher failed"));
    while (!signal.aborted) {
      await sleep(this.#resyncMs, signal);
      if (signal.aborted) break;
      try {
        const report = await this.reconcile();
        if (!isEmptyEntries(report.diff.add) || !isEmptyEntries(report.diff.remove)) {
          this.log.warn({ added: count(report.diff.add), removed: count(report.diff.remove) }, "repaired kernel entries changed by someone else");
        }
      } catch (err) {
        this.log.error({ err }, "periodic reconcile failed");
      }
    }
    await watching;
    await this.#running?.catch(() => undefined);
    this.#sessionEnded = true;
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  /** The ip session for small writes, opened on first use; undefined without one or after run() ended. */
  #currentSession(): IpSession | undefined {
    if (!this.#openSession || this.#sessionEnded) return undefined;
    return (this.#session ??= this.#openSession());
  }

  #schedule(): Promise<ReconcileReport> {
    // A pass scheduled but not started yet takes every change made before it starts.
    if (this.#starting) return this.#starting;
    if (!this.#running) {
      // Started on the next macrotask, not now: a burst of events delivered in one tick (1,000 leases written at
      // once) then goes into one pass, instead of a pass for the first event and another for the rest.
      const started = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        await this.#quietGap();
        this.#starting = undefined;
        return this.#pass();
      });
      this.#starting = started;
      this.#running = started.finally(() => (this.#running = undefined));
      return this.#running;
    }
    this.#again ??= this.#running.catch(() => undefined).then(() => {
      this.#again = undefined;
      return this.#schedule();
    });
    return this.#again;
  }

  /** Waits until no lease event arrived for `burstQuietMs` (at most `burstMaxWaitMs` in all); returns at once after a quiet spell. */
  async #quietGap(): Promise<void> {
    if (this.#quietMs === 0) return;
    const start = performance.now();
    for (;;) {
      const now = performance.now();
      const quietFor = now - this.#lastEventAt;
      if (quietFor >= this.#quietMs) return;
      const left = this.#maxWaitMs - (now - start);
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(this.#quietMs - quietFor, left))));
    }
  }

  #admit(lease: Lease): void {
    const key = peerKey(lease);
    if (!key) return;
    if (key === peerKey(this.lease)) return;
    const type = (lease.backendType ?? "").toLowerCase();
    if (type !== this.backendType) {
      // flannel: "Ignoring non-<type> subnet"
      this.log.info({ subnet: key, backendType: lease.backendType ?? "" }, `ignoring non-${this.backendType} subnet`);
      return;
    }
    this.#peers.set(key, lease);
  }

  /** Drops a peer; returns its key (also when it was not known). */
  #forget(lease: Lease): string | undefined {
    const key = peerKey(lease);
    if (key !== undefined) this.#peers.delete(key);
    return key;
  }

  async #pass(): Promise<ReconcileReport> {
    if (this.#full) return this.#fullPass();
    const keys = [...this.#dirty];
    this.#dirty.clear();
    const add: KernelEntries[] = [];
    const remove: KernelEntries[] = [];
    const wanted = new Map<string, KernelEntries>();
    for (const key of keys) {
      const peer = this.#peers.get(key);
      let want: KernelEntries = EMPTY;
      if (peer) {
        try {
          want = await this.peerEntries(peer);
        } catch (err) {
          this.#setError(key, toPeerError(key, err)); // keep what it had (a transient error must not tear down a working peer)
          continue;
        }
      }
      const d = diffEntries(want, this.#applied.get(key) ?? EMPTY);
      add.push(d.add);
      remove.push(d.remove);
      wanted.set(key, want);
    }
    const diff: EntriesDiff = { add: mergeEntries(...add), remove: mergeEntries(...remove) };
    if (!isEmptyEntries(diff.add) || !isEmptyEntries(diff.remove)) {
      try {
        await this.kernel.apply(diff);
      } catch (err) {
        this.log.debug({ err }, "incremental update failed; running a full pass");
        return this.#fullPass();
      }
    }
    for (const [key, want] of wanted) {
      if (isEmptyEntries(want)) this.#applied.delete(key);
      else this.#applied.set(key, want);
      this.#setError(key, undefined);
    }
    return { diff, peerErrors: this.#errors };
  }

  async #fullPass(): Promise<ReconcileReport> {
    this.#full = false;
    this.#dirty.clear();
    await this.beforeReconcile();
    const errors = new Map<string, Error>();
    const byPeer = new Map<string, KernelEntries>();
    // the peer set as of now; events during this pass are dirty and handled by the next pass
    const peers = new Map(this.#peers);
    for (const [key, peer] of peers) {
      try {
        byPeer.set(key, await this.peerEntries(peer));
      } catch (err) {
        errors.set(key, toPeerError(key, err));
      }
    }
    const desired = mergeEntries(...byPeer.values());
    const actual = await this.kernel.read(this.ownership);
    const diff = protect(diffEntries(desired, actual), [...errors.keys()].map((k) => peers.get(k)));
    if (!isEmptyEntries(diff.add) || !isEmptyEntries(diff.remove)) {
      try {
        await this.kernel.apply(diff);
      } catch (batchErr) {
        this.log.debug({ err: batchErr }, "batch failed; applying peer by peer");
        await this.#applyOneByOne(diff, byPeer, errors);
      }
    }
    for (const key of [...this.#applied.keys()]) if (!peers.has(key)) this.#applied.delete(key);
    for (const [key, entries] of byPeer) {
      if (errors.has(key)) this.#applied.delete(key);
      else this.#applied.set(key, entries);
    }
    this.#report(errors);
    return { diff, peerErrors: errors };
  }

  async #applyOneByOne(diff: EntriesDiff, byPeer: Map<string, KernelEntries>, errors: Map<string, Error>): Promise<void> {
    for (const r of diff.remove.routes) await this.#try({ ...EMPTY, routes: [r] });
    for (const f of diff.remove.fdb) await this.#try({ ...EMPTY, fdb: [f] });
    for (const n of diff.remove.neighbours) await this.#try({ ...EMPTY, neighbours: [n] });
    const actual = await this.kernel.read(this.ownership);
    for (const [key, wanted] of byPeer) {
      const add = diffEntries(wanted, actual).add;
      if (isEmptyEntries(add)) continue;
      try {
        await this.kernel.apply({ add, remove: EMPTY });
      } catch (err) {
        errors.set(key, toPeerError(key, err));
        // do not leave a half-programmed peer (flannel deletes the ARP/FDB entries when a later step fails)
        for (const r of wanted.routes) await this.#try({ ...EMPTY, routes: [r] });
        for (const f of wanted.fdb) await this.#try({ ...EMPTY, fdb: [f] });
        for (const n of wanted.neighbours) await this.#try({ ...EMPTY, neighbours: [n] });
      }
    }
  }

  /** Removes entries, ignoring failures (they may be gone already). */
  async #try(remove: KernelEntries): Promise<void> {
    try {
      await this.kernel.apply({ add: EMPTY, remove });
    } catch (err) {
      this.log.debug({ err }, "cleanup step failed");
    }
  }

  #setError(key: string, err: Error | undefined): void {
    const before = this.#errors.get(key);
    if (err) {
      if (before?.message !== err.message) this.log.error({ subnet: key, err }, err.message);
      this.#errors.set(key, err);
    } else if (before) {
      this.#errors.delete(key);
      if (this.#peers.has(key)) this.log.info({ subnet: key }, "peer programmed after earlier error");
    }
  }

  #report(errors: Map<string, Error>): void {
    for (const [key, err] of errors) this.#setError(key, err);
    for (const key of [...this.#errors.keys()]) if (!errors.has(key)) this.#setError(key, undefined);
  }
}

const EMPTY: KernelEntries = { neighbours: [], fdb: [], routes: [] };

function toPeerError(key: string, err: unknown): PeerError {
  return err instanceof PeerError ? err : new PeerError(key, (err as Error).message, { cause: err });
}

function count(e: KernelEntries): number {
  return e.neighbours.length + e.fdb.length + e.routes.length;
}

/** Keeps existing entries of peers that failed this pass (a transient error must not tear down a working peer). */
function protect(diff: EntriesDiff, failed: readonly (Lease | undefined)[]): EntriesDiff {
  const dsts = new Set<string>();
  const addrs = new Set<string>();
  const publics = new Set<string>();
  for (const lease of failed) {
    if (!lease) continue;
    for (const c of [lease.subnet, lease.ipv6Subnet]) {
      if (!c) continue;
      dsts.add(cidrText(c));
      addrs.add(c.address);
    }
    for (const ip of [lease.publicIp, lease.publicIpv6]) if (ip) publics.add(ip.address);
  }
  if (dsts.size === 0) return diff;
  return {
    add: diff.add,
    remove: {
      routes: diff.remove.routes.filter((r) => !dsts.has(r.dst)),
      neighbours: diff.remove.neighbours.filter((n) => !addrs.has(n.address)),
      fdb: diff.remove.fdb.filter((f) => !publics.has(f.dst)),
    },
  };
}
