import { checkDst, checkIp, checkMac } from "./_validate.ts";
import { Batch } from "./batch.ts";
import type { ApplyOptions, IpRoute } from "./ip_route.ts";
import type { FdbEntry, FdbSpec, IpFamily, NeighSpec, Neighbour, Route, RouteSpec } from "./types.ts";

/** What should exist. A kind left undefined is not looked at (neither read nor changed). */
export interface DesiredEntries {
  readonly routes?: readonly RouteSpec[];
  readonly neighbours?: readonly NeighSpec[];
  readonly fdb?: readonly FdbSpec[];
}

/** What exists (as listed). */
export interface ActualEntries {
  readonly routes?: readonly Route[];
  readonly neighbours?: readonly Neighbour[];
  readonly fdb?: readonly FdbEntry[];
}

/** Which existing entries belong to the caller; only those are ever deleted. */
export interface Ownership {
  /** @default () => false (extra routes are left alone) */
  readonly route?: (route: Route) => boolean;
  /** @default () => false */
  readonly neigh?: (neighbour: Neighbour) => boolean;
  /** @default () => false */
  readonly fdb?: (entry: FdbEntry) => boolean;
}

/** Options of {@linkcode planReconcile}. */
export interface PlanReconcileOptions {
  /** Decides which extra entries may be deleted. @default {} (nothing is deleted) */
  readonly owns?: Ownership;
}

/** The difference between desired and actual, and the batch that applies it. */
export interface ReconcilePlan {
  /** Entries to write (missing or different), with replace semantics. */
  readonly add: { readonly routes: RouteSpec[]; readonly neighbours: NeighSpec[]; readonly fdb: FdbSpec[] };
  /** Owned entries that are not desired. */
  readonly remove: { readonly routes: Route[]; readonly neighbours: Neighbour[]; readonly fdb: FdbEntry[] };
  /**
   * The batch: FDB deletes and writes first (one `bridge -batch` run), then route deletes,
   * neighbour deletes, neighbour writes and route writes (one `ip -batch` run). A route is written
   * after its neighbour and FDB entry, so the kernel never has to ARP for a peer (flannel's order).
   */
  readonly batch: Batch;
}

const routeKey = (dst: string, table: string): string => `${table}|${dst}`;
const neighKey = (dev: string, address: string): string => `${dev}|${address}`;
const fdbKey = (dev: string, lladdr: string, dst: string | undefined): string => `${dev}|${lladdr}|${dst ?? ""}`;

function canonRoute(spec: RouteSpec): { key: string; dst: string; family: IpFamily } {
  const d = checkDst(spec.dst, spec.family);
  return { key: routeKey(d.text, spec.table === undefined ? "main" : String(spec.table)), dst: d.text, family: d.family };
}

function sameRoute(spec: RouteSpec, r: Route): boolean {
  if ((spec.via === undefined ? undefined : checkIp(spec.via, "via")) !== r.via) return false;
  if (spec.dev !== undefined && spec.dev !== r.dev) return false;
  if ((spec.onlink ?? false) !== r.onlink) return false;
  if (spec.src !== undefined && checkIp(spec.src, "src") !== r.src) return false;
  if (spec.metric !== undefined && spec.metric !== (r.metric ?? 0)) return false;
  if ((spec.type ?? "unicast") !== r.type) return false;
  if (spec.scope !== undefined) {
    const want = spec.scope === "universe" ? "global" : spec.scope;
    if (want !== r.scope) return false;
  }
  return true;
}

/**
 * Computes the minimal change from `actual` to `desired`: desired entries that are missing or
 * different are written (replace), actual entries the caller owns (`options.owns`) and does not
 * desire are deleted, everything else is left alone.
 *
 * @throws {TypeError} when a desired entry is invalid
 */
export function planReconcile(desired: DesiredEntries, actual: ActualEntries, options: PlanReconcileOptions = {}): ReconcilePlan {
  const owns = options.owns ?? {};
  const add: ReconcilePlan["add"] = { routes: [], neighbours: [], fdb: [] };
  const remove: ReconcilePlan["remove"] = { routes: [], neighbours: [], fdb: [] };

  if (desired.routes) {
    const have = new Map<string, Route>();
    for (const r of actual.routes ?? []) have.set(routeKey(r.dst, r.table), r);
    const want = new Set<string>();
    for (const spec of desired.routes) {
      const c = canonRoute(spec);
      want.add(c.key);
      const r = have.get(c.key);
      if (!r || !sameRoute(spec, r)) add.routes.push(spec);
    }
    for (const [key, r] of have) if (!want.has(key) && owns.route?.(r)) remove.routes.push(r);
  }
  if (desired.neighbours) {
    const have = new Map<string, Neighbour>();
    for (const n of actual.neighbours ?? []) have.set(neighKey(n.dev, n.address), n);
    const want = new Set<string>();
    for (const spec of desired.neighbours) {
      const key = neighKey(spec.dev, checkIp(spec.address, "address"));
      want.add(key);
      const n = have.get(key);
      const state = (spec.state ?? "permanent").toUpperCase();
      const lladdr = spec.lladdr === undefined ? undefined : checkMac(spec.lladdr, "lladdr");
      if (!n || n.lladdr?.toLowerCase() !== lladdr || !n.state.includes(state)) add.neighbours.push(spec);
    }
    for (const [key, n] of have) if (!want.has(key) && owns.neigh?.(n)) remove.neighbours.push(n);
  }
  if (desired.fdb) {
    const have = new Map<string, FdbEntry>();
    for (const f of actual.fdb ?? []) have.set(fdbKey(f.dev, f.lladdr.toLowerCase(), f.dst), f);
    const want = new Set<string>();
    for (const spec of desired.fdb) {
      const key = fdbKey(spec.dev, checkMac(spec.lladdr, "lladdr"), spec.dst === undefined ? undefined : checkIp(spec.dst, "dst"));
      want.add(key);
      const f = have.get(key);
      if (!f || ((spec.permanent ?? true) && f.state !== "permanent")) add.fdb.push(spec);
    }
    for (const [key, f] of have) if (!want.has(key) && owns.fdb?.(f)) remove.fdb.push(f);
  }

  const batch = new Batch();
  for (const f of remove.fdb) {
    batch.deleteFdb({ dev: f.dev, lladdr: f.lladdr, ...(f.dst !== undefined ? { dst: f.dst } : {}), on: f.flags.includes("self") || !f.master ? "self" : "master" });
  }
  for (const spec of add.fdb) batch.replaceFdb(spec);
  for (const r of remove.routes) batch.deleteRoute(routeSpecOf(r));
  for (const n of remove.neighbours) batch.deleteNeigh({ dev: n.dev, address: n.address });
  for (const spec of add.neighbours) batch.replaceNeigh(spec);
  for (const spec of add.routes) batch.replaceRoute(spec);
  if (batch.error) throw batch.error;
  return { add, remove, batch };
}

/** A RouteSpec that deletes exactly the listed route. */
export function routeSpecOf(r: Route): RouteSpec {
  const table = r.table === "main" || r.table === "local" ? r.table : Number(r.table);
  return {
    dst: r.dst,
    family: r.family,
    ...(r.via !== undefined ? { via: r.via } : {}),
    ...(r.dev !== undefined ? { dev: r.dev } : {}),
    ...(Number.isInteger(table) || typeof table === "string" ? { table } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}),
  };
}

/** Options of {@linkcode reconcile}. */
export interface ReconcileOptions extends PlanReconcileOptions, ApplyOptions {
  /** Read only these devices' entries (one listing per device and kind). @default all devices */
  readonly devices?: readonly string[];
  /** Route families to read. @default [4, 6] */
  readonly families?: readonly IpFamily[];
  /** Compute the plan but do not apply it. @default false */
  readonly dryRun?: boolean;
}

/**
 * Reads the kinds of entries present in `desired` from the kernel, plans with
 * {@linkcode planReconcile} and applies the difference in one batch (at most one `bridge -batch`
 * and one `ip -batch` run). Resolves to the plan; nothing runs when the plan is empty.
 */
export async function reconcile(ip: IpRoute, desired: DesiredEntries, options: ReconcileOptions = {}): Promise<ReconcilePlan> {
  const devs = options.devices;
  const each = async <T>(fn: (dev?: string) => Promise<T[]>): Promise<T[]> =>
    devs ? (await Promise.all(devs.map((d) => fn(d)))).flat() : fn();
  const [routes, neighbours, fdb] = await Promise.all([
    desired.routes
      ? each((dev) => Promise.all((options.families ?? [4, 6]).map((family) => ip.route.list({ family, ...(dev ? { dev } : {}) }))).then((l) => l.flat()))
      : undefined,
    desired.neighbours ? each((dev) => ip.neigh.list(dev ? { dev } : {})) : undefined,
    desired.fdb ? each((dev) => ip.fdb.list(dev ? { dev } : {})) : undefined,
  ]);
  const actual: ActualEntries = { ...(routes ? { routes } : {}), ...(neighbours ? { neighbours } : {}), ...(fdb ? { fdb } : {}) };
  const plan = planReconcile(desired, actual, options.owns ? { owns: options.owns } : {});
  if (!options.dryRun && plan.batch.size > 0) {
    await ip.apply(plan.batch, options.continueOnError !== undefined ? { continueOnError: options.continueOnError } : {});
  }
  return plan;
}
