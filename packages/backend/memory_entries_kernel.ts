import { fdbKey, neighbourKey, routeKey, type EntriesDiff, type FdbEntry, type KernelEntries, type NeighbourEntry, type RouteEntry } from "./kernel_entries.ts";
import { ownsFdb, ownsNeighbour, ownsRoute, type EntriesKernel, type EntryOwnership } from "./reconcile_entries.ts";

/** One entry handed to {@linkcode MemoryEntriesKernelOptions.failOn}. */
export type KernelEntry =
  | { readonly kind: "neighbour"; readonly op: "replace" | "delete"; readonly entry: NeighbourEntry }
  | { readonly kind: "fdb"; readonly op: "replace" | "delete"; readonly entry: FdbEntry }
  | { readonly kind: "route"; readonly op: "replace" | "delete"; readonly entry: RouteEntry };

/** Options for {@linkcode MemoryEntriesKernel}. */
export interface MemoryEntriesKernelOptions {
  /** Return an error to make that step fail (as `ip -batch` does, earlier steps stay applied); @default never */
  failOn?: (step: KernelEntry) => Error | undefined;
}

/**
 * An in-memory {@linkcode EntriesKernel} with the kernel's semantics that matter to reconcilers:
 * replace is idempotent, deleting a missing entry fails, a batch stops at the first failing step
 * and keeps the earlier ones, and `read` returns only owned entries. Seed foreign state with
 * {@linkcode MemoryEntriesKernel.load}.
 */
export class MemoryEntriesKernel implements EntriesKernel {
  readonly #neigh = new Map<string, NeighbourEntry>();
  readonly #fdb = new Map<string, FdbEntry>();
  readonly #routes = new Map<string, RouteEntry>();
  readonly #failOn: MemoryEntriesKernelOptions["failOn"];
  /** Every diff passed to `apply`, also failed ones. */
  readonly applied: EntriesDiff[] = [];
  /** Number of `read` calls. */
  reads = 0;

  constructor(options: MemoryEntriesKernelOptions = {}) {
    this.#failOn = options.failOn;
  }

  /** Adds entries directly (e.g. foreign routes, or state left by an earlier run). */
  load(entries: Partial<KernelEntries>): this {
    for (const n of entries.neighbours ?? []) this.#neigh.set(neighbourKey(n), n);
    for (const f of entries.fdb ?? []) this.#fdb.set(fdbKey(f), f);
    for (const r of entries.routes ?? []) this.#routes.set(routeKey(r), r);
    return this;
  }

  /** Everything in the "kernel", owned or not, sorted for stable comparisons. */
  entries(): KernelEntries {
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    return { neighbours: sorted(this.#neigh), fdb: sorted(this.#fdb), routes: sorted(this.#routes) };
  }

  /** Deletes entries behind the reconciler's back (someone else's `ip route del`). */
  remove(entries: Partial<KernelEntries>): void {
    for (const n of entries.neighbours ?? []) this.#neigh.delete(neighbourKey(n));
    for (const f of entries.fdb ?? []) this.#fdb.delete(fdbKey(f));
    for (const r of entries.routes ?? []) this.#routes.delete(routeKey(r));
  }

  async read(ownership: EntryOwnership): Promise<KernelEntries> {
    this.reads++;
    const all = this.entries();
    return {
      neighbours: all.neighbours.filter((n) => ownsNeighbour(ownership, n)),
      fdb: all.fdb.filter((f) => ownsFdb(ownership, f)),
      routes: all.routes.filter((r) => ownsRoute(ownership, r)),
    };
  }

  async apply(diff: EntriesDiff): Promise<void> {
    this.applied.push(diff);
    // the same order as iprouteEntries()
    const steps: KernelEntry[] = [
      ...diff.remove.routes.map((entry) => ({ kind: "route", op: "delete", entry }) as const),
      ...diff.remove.neighbours.map((entry) => ({ kind: "neighbour", op: "delete", entry }) as const),
      ...diff.add.neighbours.map((entry) => ({ kind: "neighbour", op: "replace", entry }) as const),
      ...diff.remove.fdb.map((entry) => ({ kind: "fdb", op: "delete", entry }) as const),
      ...diff.add.fdb.map((entry) => ({ kind: "fdb", op: "replace", entry }) as const),
      ...diff.add.routes.map((entry) => ({ kind: "route", op: "replace", entry }) as const),
    ];
    for (const step of steps) {
      const err = this.#failOn?.(step);
      if (err) throw err;
      const [map, key] =
        step.kind === "route"
          ? [this.#routes as Map<string, unknown>, routeKey(step.entry)]
          : step.kind === "fdb"
            ? [this.#fdb as Map<string, unknown>, fdbKey(step.entry)]
            : [this.#neigh as Map<string, unknown>, neighbourKey(step.entry)];
      if (step.op === "delete") {
        if (!map.delete(key)) throw new Error(`RTNETLINK answers: No such file or directory (${step.kind} ${key})`);
      } else map.set(key, step.entry);
    }
  }
}
