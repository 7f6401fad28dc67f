import type { Cidr } from "@weft/ipam";
import { cidrContains, formatCidr, tryParseCidr } from "@weft/ipam";
import type { Batch, IpRoute, IpSession } from "@weft/iproute";
import { isNotFound } from "@weft/iproute";
import { diffEntries, isEmptyEntries, type EntriesDiff, type FdbEntry, type KernelEntries, type NeighbourEntry, type RouteEntry } from "./kernel_entries.ts";

/**
 * Which kernel entries a network owns. Only owned entries are read back and only they are ever
 * removed; everything else in the kernel is left alone.
 */
export interface EntryOwnership {
  /** Devices whose permanent neighbours and FDB entries with a `dst` are all ours (e.g. `flannel.1`). */
  readonly entryDevices: readonly string[];
  /** Devices on which routes can be ours (e.g. `flannel.1`, `eth0`). */
  readonly routeDevices: readonly string[];
  /** A route on a route device is ours when it has a gateway and its destination lies strictly inside one of these (the cluster Network). */
  readonly routeNetworks: readonly Cidr[];
  /** Destinations that are never ours (this node's own subnet). @default [] */
  readonly exclude?: readonly Cidr[];
}

/** Reads and writes owned routes, neighbours and FDB entries. Implemented over @weft/iproute by {@linkcode iprouteEntries}. */
export interface EntriesKernel {
  /** The owned entries the kernel has now. */
  read(ownership: EntryOwnership): Promise<KernelEntries>;
  /**
   * Applies a diff (writes with replace semantics): route removals first, then neighbour and FDB
   * removals and writes (the two kinds may run concurrently), then route writes, so a peer gets its
   * neighbour and FDB entry before its route, and loses its route before them. May have applied
   * part of the diff when it rejects.
   *
   * A call made after an earlier call's `onQueued` (but before that call settled) is applied after
   * it, in that order; a call made earlier than that may interleave with it.
   */
  apply(diff: EntriesDiff, options?: ApplyEntriesOptions): Promise<void>;
}

/** Options of {@linkcode EntriesKernel.apply}. */
export interface ApplyEntriesOptions {
  /**
   * Called (at most once) when the next `apply()` may start although this one has not settled: every
   * write of this diff still to run is queued ahead of anything a later call writes. Kernels without
   * such a queue call it when they settle, or not at all (then the caller waits for the settling).
   * Lets a caller prepare and submit the next diff while the kernel works through this one.
   * @default none
   */
  readonly onQueued?: () => void;
}

/** Whether `route` is owned under `ownership` (see {@linkcode EntryOwnership}). */
export function ownsRoute(ownership: EntryOwnership, route: RouteEntry): boolean {
  if (!ownership.routeDevices.includes(route.dev) || !route.via) return false;
  const dst = tryParseCidr(route.dst.includes("/") ? route.dst : `${route.dst}/${route.dst.includes(":") ? 128 : 32}`);
  if (!dst) return false;
  if ((ownership.exclude ?? []).some((c) => formatCidr(c) === formatCidr(dst))) return false;
  return ownership.routeNetworks.some((n) => dst.prefixLength > n.prefixLength && cidrContains(n, dst));
}

/** Whether a neighbour entry is owned. */
export function ownsNeighbour(ownership: EntryOwnership, n: NeighbourEntry): boolean {
  return ownership.entryDevices.includes(n.dev);
}

/** Whether an FDB entry is owned. */
export function ownsFdb(ownership: EntryOwnership, f: FdbEntry): boolean {
  return ownership.entryDevices.includes(f.dev) && f.dst !== "";
}

/** Options for {@linkcode reconcileEntries}. */
export interface ReconcileEntriesOptions {
  /** Which kernel entries are ours (only those are read and ever removed). */
  ownership: EntryOwnership;
  /** Compute the diff but do not apply it; @default false */
  dryRun?: boolean;
}

/**
 * Converges the owned kernel entries on `desired`: reads what the kernel has, diffs, and applies
 * only the difference as one batch. Resolves to the diff (empty when nothing had to change).
 */
export async function reconcileEntries(kernel: EntriesKernel, desired: KernelEntries, options: ReconcileEntriesOptions): Promise<EntriesDiff> {
  const diff = diffEntries(desired, await kernel.read(options.ownership));
  if (!options.dryRun && !(isEmptyEntries(diff.add) && isEmptyEntries(diff.remove))) await kernel.apply(diff);
  return diff;
}

/** Options for {@linkcode iprouteEntries}. */
export interface IprouteEntriesOptions {
  /**
   * The long-lived session (`ip -batch -` and `bridge -batch -` processes in the namespace of `iproute`) to
   * write through, looked up per write; undefined (or a closed session) = start a process per batch. Starting
   * a process costs 2–5 ms of the caller's main thread; a write through the session costs none. @default none
   */
  readonly session?: () => IpSession | undefined;
  /** Batches with more operations than this start a process of their own instead of using the session. @default Infinity */
  readonly sessionMaxOps?: number;
}

/**
 * The {@linkcode EntriesKernel} over @weft/iproute: reads with `ip -json neigh/route` and
 * `bridge -json fdb` (a missing device reads as empty), writes in at most three steps: route
 * removals (only when FDB entries are removed too), then neighbours (`ip -batch`) and FDB entries
 * (`bridge -batch`) at the same time, then route writes (`ip -batch`). With a session
 * ({@linkcode IprouteEntriesOptions.session}) every batch is written through it (no process start), and
 * `apply()` calls `onQueued` once its route writes are queued in the session, so the next diff can be
 * prepared and queued while they run.
 */
export function iprouteEntries(iproute: IpRoute, options: IprouteEntriesOptions = {}): EntriesKernel {
  const maxOps = options.sessionMaxOps ?? Infinity;
  if (!(maxOps >= 0)) throw new RangeError(`sessionMaxOps must be a number >= 0, got ${maxOps}`);
  /**
   * Writes a batch through the session when there is one (the job is queued synchronously; `onQueued` is
   * then called), else with a process of its own.
   */
  const write = (batch: Batch, onQueued?: () => void): Promise<void> => {
    const session = batch.size <= maxOps ? options.session?.() : undefined;
    if (!session) return iproute.apply(batch);
    const done = session.apply(batch);
    onQueued?.();
    return done;
  };
  return {
    async read(ownership) {
      // all listings at once: each is one process
      const [neighLists, fdbLists, routeList] = await Promise.all([
        Promise.all(ownership.entryDevices.map((dev) => orEmpty(iproute.neigh.list({ dev })))),
        Promise.all(ownership.entryDevices.map((dev) => orEmpty(iproute.fdb.list({ dev })))),
        ownership.routeDevices.length > 0 ? iproute.route.list() : Promise.resolve([]),
      ]);
      const neighbours: NeighbourEntry[] = [];
      const fdb: FdbEntry[] = [];
      ownership.entryDevices.forEach((dev, i) => {
        for (const n of neighLists[i] ?? []) {
          if (!n.lladdr || !n.state.includes("PERMANENT")) continue;
          const entry = { dev: n.dev || dev, address: n.address, lladdr: n.lladdr };
          if (ownsNeighbour(ownership, entry)) neighbours.push(entry);
        }
        for (const f of fdbLists[i] ?? []) {
          // learned entries (Learning: true) are the kernel's, not ours
          if (!f.dst || !f.flags.includes("self") || f.state !== "permanent") continue;
          const entry = { dev: f.dev || dev, lladdr: f.lladdr, dst: f.dst };
          if (ownsFdb(ownership, entry)) fdb.push(entry);
        }
      });
      const routes: RouteEntry[] = [];
      for (const r of routeList) {
        if (r.type !== "unicast" || !r.dev || !r.via) continue;
        const entry: RouteEntry = { dst: r.dst, dev: r.dev, via: r.via, ...(r.onlink ? { onlink: true } : {}) };
        if (ownsRoute(ownership, entry)) routes.push(entry);
      }
      return { neighbours, fdb, routes };
    },
    async apply(diff, applyOptions = {}) {
      // Per peer: neighbour and FDB entry, then route (the route comes last so the kernel never ARPs). The
      // neighbour batch (ip) and the FDB batch (bridge) are independent and run at the same time; route writes
      // wait for both. Route removals go first, on their own when FDB entries are removed too (a leaving peer
      // loses its route before its FDB entry), else at the head of the neighbour batch.
      // Each batch is built right before it is started (building 1,000 operations takes a few ms), so the route
      // batch is built while the neighbour and FDB writes run.
      const removeRoutesFirst = diff.remove.routes.length > 0 && diff.remove.fdb.length > 0;
      if (removeRoutesFirst) {
        const early = iproute.batch();
        for (const r of diff.remove.routes) early.deleteRoute({ dst: r.dst, dev: r.dev, ...(r.via ? { via: r.via } : {}) });
        await write(early);
      }
      const neigh = iproute.batch();
      if (!removeRoutesFirst) for (const r of diff.remove.routes) neigh.deleteRoute({ dst: r.dst, dev: r.dev, ...(r.via ? { via: r.via } : {}) });
      for (const n of diff.remove.neighbours) neigh.deleteNeigh({ dev: n.dev, address: n.address });
      for (const n of diff.add.neighbours) neigh.replaceNeigh({ dev: n.dev, address: n.address, lladdr: n.lladdr, state: "permanent" });
      const neighDone = neigh.size > 0 ? write(neigh) : undefined;
      neighDone?.catch(() => undefined); // awaited below (a rejection before then is not unhandled)
      const fdb = iproute.batch();
      for (const f of diff.remove.fdb) fdb.deleteFdb({ dev: f.dev, lladdr: f.lladdr, dst: f.dst, on: "self" });
      for (const f of diff.add.fdb) fdb.replaceFdb({ dev: f.dev, lladdr: f.lladdr, dst: f.dst, on: "self", permanent: true });
      const fdbDone = fdb.size > 0 ? write(fdb) : undefined;
      fdbDone?.catch(() => undefined);
      const late = iproute.batch();
      for (const r of diff.add.routes) late.replaceRoute({ dst: r.dst, dev: r.dev, ...(r.via ? { via: r.via } : {}), ...(r.onlink ? { onlink: true } : {}) });
      const both = await Promise.allSettled([neighDone, fdbDone]);
      for (const r of both) if (r.status === "rejected") throw r.reason;
      if (late.size === 0) return;
      // Through the session the route batch is queued now, behind everything written before it and ahead of
      // everything written after it, so the caller may already start the next diff.
      await write(late, applyOptions.onQueued);
    },
  };
}

async function orEmpty<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
