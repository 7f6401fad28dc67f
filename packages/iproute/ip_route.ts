import { RealIpRoute } from "./_real_ip_route.ts";
import type { Batch } from "./batch.ts";
import { createExec } from "./exec.ts";
import type {
  Exec, NetnsHandle,
  Address, AddressSpec, FdbEntry, FdbSpec, IpEvent, IpFamily, Link, LinkChanges, LinkSpec, MonitorObject,
  NeighSpec, Neighbour, Route, RouteSpec,
} from "./types.ts";

/** Options of {@linkcode IpRoute.apply}. */
export interface ApplyOptions {
  /**
   * Keep going after a failed command (`-force`) and report every failure, instead of stopping at
   * the first one. Either way the commands before a failure stay applied (iproute2 batches are not
   * transactions).
   * @default false
   */
  readonly continueOnError?: boolean;
}

/** Filters of `link.list()`. */
export interface ListLinksOptions {
  /** Only links of this kind (`veth`, `bridge`, `vxlan`, ...). @default all */
  readonly kind?: string;
  /** Only ports of this bridge. @default all */
  readonly master?: string;
}

/** Filters of `address.list()`. */
export interface ListAddressesOptions {
  /** @default all devices */
  readonly dev?: string;
  /** @default both */
  readonly family?: IpFamily;
}

/** Filters of `route.list()`. */
export interface ListRoutesOptions {
  /** @default both */
  readonly family?: IpFamily;
  /** @default all devices */
  readonly dev?: string;
  /** `all` lists every table. @default main */
  readonly table?: number | "main" | "local" | "all";
}

/** Filters of `neigh.list()`. */
export interface ListNeighboursOptions {
  /** @default all devices */
  readonly dev?: string;
  /** @default both */
  readonly family?: IpFamily;
}

/** Filters of `fdb.list()`. */
export interface ListFdbOptions {
  /** @default all devices */
  readonly dev?: string;
}

/** Options of `monitor()`. */
export interface MonitorOptions {
  /** What to report. @default ["link"] */
  readonly objects?: readonly MonitorObject[];
  /** Stops the monitor and ends the iteration. @default never */
  readonly signal?: AbortSignal;
}

/** Link operations. */
export interface LinkOps {
  /** Creates a link (and its veth peer, possibly in another namespace); `isExists` when the name is taken. */
  add(spec: LinkSpec): Promise<void>;
  /** Changes a link; `isNotFound` when it does not exist. */
  set(name: string, changes: LinkChanges): Promise<void>;
  /** Deletes a link (a veth pair goes with it); `isNotFound` when it does not exist. */
  delete(name: string): Promise<void>;
  /** All links with details (kind, vxlan info, master). */
  list(options?: ListLinksOptions): Promise<Link[]>;
  /** One link, or undefined when it does not exist. */
  get(name: string): Promise<Link | undefined>;
}

/** Address operations. */
export interface AddressOps {
  add(spec: AddressSpec): Promise<void>;
  /** Adds, or updates an existing address (idempotent). */
  replace(spec: AddressSpec): Promise<void>;
  delete(spec: AddressSpec): Promise<void>;
  /** Removes every address of a device (of one family when given). */
  flush(dev: string, options?: { readonly family?: IpFamily }): Promise<void>;
  list(options?: ListAddressesOptions): Promise<Address[]>;
}

/** Route operations. */
export interface RouteOps {
  add(spec: RouteSpec): Promise<void>;
  /** Adds or overwrites the route with the same destination/table/metric (idempotent). */
  replace(spec: RouteSpec): Promise<void>;
  delete(spec: RouteSpec): Promise<void>;
  list(options?: ListRoutesOptions): Promise<Route[]>;
  /** `ip route get <address>`: the route the kernel would use, or undefined when there is none. */
  get(address: string): Promise<Route | undefined>;
}

/** Neighbour operations. */
export interface NeighOps {
  add(spec: NeighSpec): Promise<void>;
  replace(spec: NeighSpec): Promise<void>;
  delete(spec: NeighSpec): Promise<void>;
  list(options?: ListNeighboursOptions): Promise<Neighbour[]>;
}

/** Bridge FDB operations (`bridge fdb`). */
export interface FdbOps {
  add(spec: FdbSpec): Promise<void>;
  /** Adds another destination for the same MAC (e.g. the all-zero flood entry). */
  append(spec: FdbSpec): Promise<void>;
  replace(spec: FdbSpec): Promise<void>;
  delete(spec: FdbSpec): Promise<void>;
  list(options?: ListFdbOptions): Promise<FdbEntry[]>;
}

/**
 * sysctls of the namespace, by slash-separated key under /proc/sys (`net/ipv4/ip_forward`,
 * `net/ipv6/conf/flannel.1/accept_ra`). Only keys under `net/` are accepted.
 */
export interface SysctlOps {
  get(key: string): Promise<string>;
  set(key: string, value: string | number): Promise<void>;
}

/**
 * iproute2 for one network namespace. Obtain one with {@linkcode createIpRoute} (real) or
 * `new FakeIpRoute()` from `@weft/iproute/testing`.
 *
 * Single operations each run one command. For speed, collect operations in a
 * {@linkcode Batch} and {@linkcode IpRoute.apply} it: every run of consecutive ip operations is
 * one `ip -batch -` process and every run of FDB operations one `bridge -batch -` process.
 */
export interface IpRoute {
  /** The namespace this instance works in; undefined = the caller's own. */
  readonly netns: string | undefined;
  readonly link: LinkOps;
  readonly address: AddressOps;
  readonly route: RouteOps;
  readonly neigh: NeighOps;
  readonly fdb: FdbOps;
  readonly sysctl: SysctlOps;
  /** A new, empty batch (same as `new Batch()`). */
  batch(): Batch;
  /**
   * Applies a batch. Rejects with the batch's first validation error before running anything,
   * or with a {@linkcode BatchError} naming the operation(s) that failed.
   */
  apply(batch: Batch, options?: ApplyOptions): Promise<void>;
  /** Changes as they happen, until `signal` aborts. */
  monitor(options?: MonitorOptions): AsyncIterable<IpEvent>;
}

/** Options of {@linkcode createIpRoute}. */
export interface CreateIpRouteOptions {
  /**
   * The namespace to work in: a name under /var/run/netns (run as `ip -n <name>`) or a path such as
   * `/proc/<pid>/ns/net` (run as `nsenter --net=<path> ip ...`).
   * @default undefined (the caller's own namespace)
   */
  readonly netns?: NetnsHandle;
  /** How programs run; inject a recorder in unit tests. @default createExec() */
  readonly exec?: Exec;
  /** Kill a command that runs longer than this. @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * The real {@linkcode IpRoute} over iproute2 (`ip`, `bridge`), `nsenter` and `sysctl`.
 *
 * @throws {TypeError} when `netns` is not a valid name or absolute path
 * @example
 * ```ts
 * const pod = createIpRoute({ netns: "/proc/4242/ns/net" });
 * await pod.apply(pod.batch().addAddress({ dev: "eth0", address: "10.244.1.5/24" }).setLink("eth0", { up: true }));
 * ```
 */
export function createIpRoute(options: CreateIpRouteOptions = {}): IpRoute {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  return new RealIpRoute({ netns: options.netns, exec: options.exec ?? createExec(), timeoutMs });
}
