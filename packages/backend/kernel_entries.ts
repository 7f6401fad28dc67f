/**
 * Desired kernel state of a data-plane backend, as plain data, and the diff against what the
 * kernel has. Writers apply a diff so that a peer's route is written only after its neighbour
 * and FDB entry (flannel's order for adding a vxlan peer), so the kernel never ARPs for a peer.
 */

/** A permanent neighbour (`ip neigh replace <address> lladdr <lladdr> dev <dev> nud permanent`). */
export interface NeighbourEntry {
  readonly dev: string;
  readonly address: string;
  readonly lladdr: string;
}

/** A permanent FDB entry (`bridge fdb replace <lladdr> dev <dev> dst <dst> self permanent`). */
export interface FdbEntry {
  readonly dev: string;
  readonly lladdr: string;
  readonly dst: string;
}

/** A unicast route in the main table (`ip route replace <dst> [via <via>] dev <dev> [onlink]`). */
export interface RouteEntry {
  /** Destination CIDR in canonical text form, e.g. `10.244.2.0/24`. */
  readonly dst: string;
  readonly dev: string;
  readonly via?: string;
  readonly onlink?: boolean;
}

/** A set of routes, neighbours and FDB entries. */
export interface KernelEntries {
  readonly neighbours: readonly NeighbourEntry[];
  readonly fdb: readonly FdbEntry[];
  readonly routes: readonly RouteEntry[];
}

/** What to change: `add` entries are written with replace semantics, `remove` entries are deleted. */
export interface EntriesDiff {
  readonly add: KernelEntries;
  readonly remove: KernelEntries;
}

/** No entries. */
export const EMPTY_ENTRIES: KernelEntries = Object.freeze({ neighbours: [], fdb: [], routes: [] });

/** Concatenates entry sets (later sets win on duplicate keys in {@linkcode diffEntries}). */
export function mergeEntries(...sets: readonly KernelEntries[]): KernelEntries {
  return {
    neighbours: sets.flatMap((s) => s.neighbours),
    fdb: sets.flatMap((s) => s.fdb),
    routes: sets.flatMap((s) => s.routes),
  };
}

/** Whether a set has no entries. */
export function isEmptyEntries(entries: KernelEntries): boolean {
  return entries.neighbours.length === 0 && entries.fdb.length === 0 && entries.routes.length === 0;
}

export const neighbourKey = (n: NeighbourEntry): string => `${n.dev}|${n.address.toLowerCase()}`;
export const fdbKey = (f: FdbEntry): string => `${f.dev}|${f.lladdr.toLowerCase()}|${f.dst.toLowerCase()}`;
export const routeKey = (r: RouteEntry): string => r.dst.toLowerCase();

/**
 * The changes that turn `actual` into `desired`. `actual` must already be filtered to what the
 * caller owns (only those entries are ever removed). Neighbours are keyed by device + address
 * (a new MAC is a replace), FDB entries by device + MAC + destination (a peer's new VtepMAC
 * adds the new entry and removes the old one, which flannel leaks), routes by destination.
 */
export function diffEntries(desired: KernelEntries, actual: KernelEntries): EntriesDiff {
  const neigh = diffBy(desired.neighbours, actual.neighbours, neighbourKey, (a, b) => a.lladdr.toLowerCase() === b.lladdr.toLowerCase());
  const fdb = diffBy(desired.fdb, actual.fdb, fdbKey, () => true);
  const routes = diffBy(desired.routes, actual.routes, routeKey, sameRoute);
  return {
    add: { neighbours: neigh.add, fdb: fdb.add, routes: routes.add },
    remove: { neighbours: neigh.remove, fdb: fdb.remove, routes: routes.remove },
  };
}

function sameRoute(a: RouteEntry, b: RouteEntry): boolean {
  return a.dev === b.dev && (a.via ?? "").toLowerCase() === (b.via ?? "").toLowerCase() && Boolean(a.onlink) === Boolean(b.onlink);
}

function diffBy<T>(desired: readonly T[], actual: readonly T[], key: (t: T) => string, same: (a: T, b: T) => boolean): { add: T[]; remove: T[] } {
  // Fast paths (no maps) for a new peer and a peer that left, the common cases of an incremental pass.
  if (actual.length === 0) return { add: uniqueBy(desired, key), remove: [] };
  if (desired.length === 0) return { add: [], remove: uniqueBy(actual, key) };
  const want = new Map<string, T>();
  for (const d of desired) want.set(key(d), d);
  const have = new Map<string, T>();
  for (const a of actual) have.set(key(a), a);
  const add: T[] = [];
  for (const [k, d] of want) {
    const a = have.get(k);
    if (!a || !same(d, a)) add.push(d);
  }
  const remove: T[] = [];
  for (const [k, a] of have) if (!want.has(k)) remove.push(a);
  return { add, remove };
}

/** One entry per key, the last one given, in the order keys first appear (what the maps in diffBy keep). */
function uniqueBy<T>(list: readonly T[], key: (t: T) => string): T[] {
  if (list.length <= 1) return [...list];
  const byKey = new Map<string, T>();
  for (const t of list) byKey.set(key(t), t);
  return [...byKey.values()];
}
