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
 * A pass starts on the next macrotask (`setImmediate`) after it is requested, so the events of one
 * tick go into one pass, and changes that arrive while a pass runs are merged into the next one: a
 * caller that does not await each {@linkcode handleLeaseEvent} gets a burst applied in a few batches.
 * Passes are pipelined: the next incremental pass starts as soon as the previous one's writes are
 * queued in the kernel session (`onQueued` of {@linkcode EntriesKernel.apply}), so it computes and
 * queues its own neighbour and FDB writes while the previous pass's routes are still being written. An
 * incremental pass records what it writes as applied before the kernel confirms it (the next pass diffs
 * against that); if a write fails, a full pass re-reads the kernel and repairs. A full pass waits
 * until every earlier write has finished before it reads the kernel.
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
  /** Desired peers by key. */
  readonly #peers = new Map<string, Lease>();
  /** What the last successful write programmed, per peer key. */
  readonly #applied = new Map<string, KernelEntries>();
  /** Peers changed since the last pass (incremental work). */
  readonly #dirty = new Set<string>();
  /** The next pass must be a full one. */
  #full = true;
  #errors = new Map<string, Error>();
  /** The pass requested but not started yet (it takes every change made before it starts). */
  #pending: Promise<ReconcileReport> | undefined;
  /** Opens when the latest pass has started and queued its writes (or settled): the next pass may start then. */
  #gate: Promise<void> = Promise.resolve();
  #gateOpen = true;
  /** Settles when every pass started so far has settled (kernel writes included). */
  #settled: Promise<void> = Promise.resolve();
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
  handleLeaseEvent(event: LeaseEvent): Promise<void> {
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
        if (key && !this.#peers.has(key)) this.log.debug({ subnet: key }, "peer removed");
        if (key) this.#dirty.add(key);
        break;
      }
      case "own-removed":
        this.log.warn({ subnet: peerKey(event.lease) }, "this node's lease disappeared from the store; keeping routes");
        return Promise.resolve();
      default:
        this.log.error({ event }, "unknown lease event type");
        return Promise.resolve();
    }
    // Every event until the pass starts gets the same promise (a burst of 1,000 events: one promise, not 1,000).
    return this.#schedule() as Promise<unknown> as Promise<void>;
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
    await this.#settled;
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
    if (this.#pending) return this.#pending;
    // A pass starts once the one before it has queued its writes (not finished them: an incremental pass's route
    // writes may still run while the next pass computes and queues its own, see EntriesKernel.apply), on the next
    // macrotask after that, so a burst of events delivered in one tick goes into one pass.
    const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));
    const start = this.#gateOpen ? nextMacrotask() : this.#gate.then(nextMacrotask);
    const before = this.#settled;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = () => {
        if (this.#gate === gate) this.#gateOpen = true;
        resolve();
      };
    });
    this.#gate = gate;
    this.#gateOpen = false;
    const work = start
      .then(async () => {
        this.#pending = undefined;
        // A full pass reads the kernel, so it waits until the writes of every earlier pass have settled.
        return this.#full ? this.#fullPass(before) : this.#incrementalPass(open);
      })
      .finally(open);
    // (resolves to nothing: a value would chain every earlier report into the next one)
    this.#settled = Promise.allSettled([before, work]).then(() => undefined);
    // undefined: the incremental write failed; a full pass (re-reading the kernel) repairs it.
    const result = work.then((report) => report ?? this.reconcile());
    this.#pending = result;
    return result;
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

  /**
   * Diffs the changed peers against what was last written for them and writes the difference. What it
   * writes is recorded as applied before the kernel confirms it, so the next pass (which may start as soon as
   * `queued` is called) diffs against it; if the write fails, a full pass re-reads the kernel and starts over.
   */
  async #incrementalPass(queued: () => void): Promise<ReconcileReport | undefined> {
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
          // (no await for a synchronous result: 1,000 peers would cost 1,000 microtask turns)
          const entries = this.peerEntries(peer);
          want = entries instanceof Promise ? await entries : entries;
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
    for (const [key, want] of wanted) {
      if (isEmptyEntries(want)) this.#applied.delete(key);
      else this.#applied.set(key, want);
    }
    if (!isEmptyEntries(diff.add) || !isEmptyEntries(diff.remove)) {
      try {
        await this.kernel.apply(diff, { onQueued: queued });
      } catch (err) {
        this.log.debug({ err }, "incremental update failed; running a full pass");
        this.#full = true;
        return undefined;
      }
    }
    for (const key of wanted.keys()) this.#setError(key, undefined);
    return { diff, peerErrors: this.#errors };
  }

  async #fullPass(earlier: Promise<unknown>): Promise<ReconcileReport> {
    this.#full = false;
    this.#dirty.clear();
    // Writes of earlier passes still running would make the kernel look half-programmed.
    await earlier;
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
