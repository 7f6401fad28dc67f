import { cidrContains, parseCidr, parseIp } from "@weft/ipam";
import { IpRouteBase } from "./_base.ts";
import { checkDst, checkIfname, checkIp, checkIpWithPrefix, checkMac, checkNetnsArg, checkNetnsHandle, checkSysctlKey, checkSysctlValue } from "./_validate.ts";
import { Batch, type BatchOp } from "./batch.ts";
import type {
  ApplyOptions, ListAddressesOptions, ListFdbOptions, ListLinksOptions, ListNeighboursOptions, ListRoutesOptions, MonitorOptions,
} from "./ip_route.ts";
import { BatchError, IpRouteError, type IpRouteErrorKind } from "./ip_route_error.ts";
import type {
  Address, FdbEntry, IpEvent, IpFamily, Link, LinkChanges, LinkSpec, NetnsHandle, Neighbour, Route, RouteSpec, VxlanInfo,
} from "./types.ts";

interface FLink {
  index: number;
  name: string;
  kind: string | undefined;
  mtu: number;
  mac: string;
  up: boolean;
  promisc: boolean;
  master: string | undefined;
  hairpin: boolean;
  vxlan: VxlanInfo | undefined;
  /** The other end of a veth: namespace key + name. */
  peer: { ns: string; name: string } | undefined;
}

interface FNs {
  nextIndex: number;
  links: Map<string, FLink>;
  addresses: Address[];
  routes: Route[];
  neighbours: Neighbour[];
  /** vxlan-style FDB: dev|mac → destinations ("" = no dst). */
  fdb: Map<string, { dev: string; lladdr: string; dsts: string[]; on: "self" | "master"; permanent: boolean }>;
  sysctl: Map<string, string>;
  listeners: Set<(ev: IpEvent) => void>;
}

/** Shared state of every fake namespace (so a veth peer can be placed in another one). */
export class FakeKernel {
  readonly #namespaces = new Map<string, FNs>();
  #macCounter = 0;

  /** @internal state of one namespace, created on first use. */
  ns(key: string): FNs {
    let ns = this.#namespaces.get(key);
    if (!ns) {
      ns = { nextIndex: 2, links: new Map(), addresses: [], routes: [], neighbours: [], fdb: new Map(), sysctl: new Map(), listeners: new Set() };
      ns.links.set("lo", { index: 1, name: "lo", kind: undefined, mtu: 65536, mac: "00:00:00:00:00:00", up: false, promisc: false, master: undefined, hairpin: false, vxlan: undefined, peer: undefined });
      this.#namespaces.set(key, ns);
    }
    return ns;
  }

  /** Namespace keys that exist. */
  namespaces(): string[] {
    return [...this.#namespaces.keys()];
  }

  /** @internal a fresh locally administered MAC. */
  nextMac(): string {
    const n = ++this.#macCounter;
    return `02:fa:${[(n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
  }
}

/** Options of {@linkcode FakeIpRoute}. */
export interface FakeIpRouteOptions {
  /** The namespace this instance stands for. @default undefined (the "own" namespace) */
  readonly netns?: NetnsHandle;
  /** Share state with other fakes (e.g. the pod side of a veth). @default a new FakeKernel */
  readonly kernel?: FakeKernel;
}

/** The key of a namespace handle: names and /var/run/netns/<name> paths are the same namespace. */
function nsKey(handle: string | number | undefined): string {
  if (handle === undefined) return "";
  if (typeof handle === "number") return `pid:${handle}`;
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(handle);
  return m && m[1] ? m[1] : handle;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A semantic in-memory `IpRoute`: it keeps links, addresses, routes, neighbours and FDB entries
 * and enforces what the kernel enforces (unique names, a device must exist before anything is put
 * on it, a route needs an up device and a reachable gateway unless `onlink`, bringing a link down
 * drops its routes and neighbours, deleting a veth deletes its peer). Failures are
 * {@linkcode IpRouteError}s of the same kinds as the real implementation, and batches stop at the
 * first failure (or continue with `continueOnError`) with earlier operations kept, as `ip -batch` does.
 *
 * @example
 * ```ts
 * const host = new FakeIpRoute();
 * const pod = host.forNetns("/proc/42/ns/net");
 * await host.link.add({ type: "veth", name: "veth1", peer: { name: "eth0", netns: "/proc/42/ns/net" } });
 * console.log((await pod.link.list()).map((l) => l.name)); // ["lo", "eth0"]
 * ```
 */
export class FakeIpRoute extends IpRouteBase {
  readonly netns: string | undefined;
  readonly kernel: FakeKernel;
  readonly #key: string;
  /** Every batch applied, in order (single operations included). */
  readonly batches: Batch[] = [];
  /** When set, the next operation of this kind fails with this error kind (failure injection). */
  failNext: { op: BatchOp["op"]; kind: IpRouteErrorKind; message?: string } | undefined;

  constructor(options: FakeIpRouteOptions = {}) {
    super();
    this.netns = options.netns === undefined ? undefined : checkNetnsHandle(options.netns);
    this.kernel = options.kernel ?? new FakeKernel();
    this.#key = nsKey(this.netns);
    this.kernel.ns(this.#key);
  }

  /** A fake for another namespace sharing this one's kernel. */
  forNetns(netns: NetnsHandle | undefined): FakeIpRoute {
    return new FakeIpRoute({ ...(netns !== undefined ? { netns } : {}), kernel: this.kernel });
  }

  /** The last applied batch. */
  get lastBatch(): Batch | undefined {
    return this.batches[this.batches.length - 1];
  }

  get #ns(): FNs {
    return this.kernel.ns(this.#key);
  }

  async apply(batch: Batch, options: ApplyOptions = {}): Promise<void> {
    if (batch.error) throw batch.error;
    this.batches.push(batch);
    const failures: IpRouteError[] = [];
    batch.ops.forEach((op, index) => {
      if (failures.length && !options.continueOnError) return;
      try {
        const injected = this.failNext;
        if (injected && injected.op === op.op) {
          this.failNext = undefined;
          throw new FakeFailure(injected.kind, injected.message ?? "injected failure");
        }
        this.#applyOp(op);
      } catch (err) {
        if (!(err instanceof FakeFailure)) throw err;
        const cmd = batch.commands.find((c) => c.index === index);
        failures.push(
          new IpRouteError(err.kind, cmd ? cmd.args.join(" ") : op.op, err.message, {
            ...(cmd?.device !== undefined ? { device: cmd.device } : {}),
            ...(this.netns !== undefined ? { netns: this.netns } : {}),
            stderr: err.message,
            index,
          }),
        );
      }
    });
    if (failures.length) throw new BatchError(failures, batch.size);
  }

  // -------------------------------------------------------------------------------------------
  // Semantics

  #link(name: string, ns: FNs = this.#ns): FLink {
    const l = ns.links.get(name);
    if (!l) throw new FakeFailure("NotFound", `Cannot find device "${name}"`);
    return l;
  }

  #emit(ev: IpEvent, ns: FNs = this.#ns): void {
    for (const fn of ns.listeners) fn(ev);
  }

  #newLink(ns: FNs, name: string, kind: string, mtu: number | undefined, mac: string | undefined): FLink {
    if (ns.links.has(name)) throw new FakeFailure("Exists", "File exists");
    const l: FLink = {
      index: ns.nextIndex++, name, kind, mtu: mtu ?? 1500, mac: mac ?? this.kernel.nextMac(), up: false, promisc: false,
      master: undefined, hairpin: false, vxlan: undefined, peer: undefined,
    };
    ns.links.set(name, l);
    this.#emit({ type: "link", action: "new", index: l.index, name, up: false, raw: `[LINK]${l.index}: ${name}` }, ns);
    return l;
  }

  #applyOp(op: BatchOp): void {
    const ns = this.#ns;
    switch (op.op) {
      case "link.add": return this.#addLink(op.spec);
      case "link.set": return this.#setLink(op.name, op.changes);
      case "link.delete": return this.#deleteLink(ns, this.#link(op.name).name);
      case "address.add": case "address.replace": {
        const l = this.#link(op.spec.dev);
        const a = checkIpWithPrefix(op.spec.address, "address");
        const [address = "", len = "0"] = a.text.split("/");
        const existing = ns.addresses.findIndex((x) => x.dev === l.name && x.address === address);
        if (existing >= 0 && op.op === "address.add") throw new FakeFailure("Exists", a.family === 4 ? "ipv4: Address already assigned" : "File exists");
        const entry: Address = { dev: l.name, family: a.family, address, prefixLength: Number(len), cidr: a.text, scope: op.spec.scope ?? "global" };
        if (existing >= 0) ns.addresses[existing] = entry;
        else {
          ns.addresses.push(entry);
          this.#emit({ type: "address", action: "new", dev: l.name, cidr: a.text, raw: `[ADDR]${l.index}: ${l.name} inet ${a.text}` });
          if (l.up && !op.spec.noPrefixRoute) this.#addPrefixRoute(ns, entry);
        }
        return;
      }
      case "address.delete": {
        const l = this.#link(op.spec.dev);
        const a = checkIpWithPrefix(op.spec.address, "address");
        const i = ns.addresses.findIndex((x) => x.dev === l.name && x.cidr === a.text);
        if (i < 0) throw new FakeFailure("NotFound", a.family === 4 ? "ipv4: Address not found" : "Cannot assign requested address");
        const [gone] = ns.addresses.splice(i, 1);
        if (gone) this.#dropPrefixRoute(ns, gone);
        return;
      }
      case "address.flush": {
        const l = this.#link(op.dev);
        const gone = ns.addresses.filter((x) => x.dev === l.name && (op.family === undefined || x.family === op.family));
        ns.addresses = ns.addresses.filter((x) => !gone.includes(x));
        for (const g of gone) this.#dropPrefixRoute(ns, g);
        return;
      }
      case "route.add": case "route.replace": case "route.delete": return this.#route(ns, op.op, op.spec);
      case "neigh.add": case "neigh.replace": {
        const l = this.#link(op.spec.dev);
        const address = checkIp(op.spec.address, "address");
        const lladdr = checkMac(op.spec.lladdr, "lladdr");
        const i = ns.neighbours.findIndex((n) => n.dev === l.name && n.address === address);
        if (i >= 0 && op.op === "neigh.add") throw new FakeFailure("Exists", "File exists");
        const n: Neighbour = { family: address.includes(":") ? 6 : 4, dev: l.name, address, lladdr, state: [(op.spec.state ?? "permanent").toUpperCase()] };
        if (i >= 0) ns.neighbours[i] = n;
        else ns.neighbours.push(n);
        this.#emit({ type: "neigh", action: "new", dev: l.name, address, lladdr, raw: `[NEIGH]${address} dev ${l.name} lladdr ${lladdr}` });
        return;
      }
      case "neigh.delete": {
        const l = this.#link(op.spec.dev);
        const address = checkIp(op.spec.address, "address");
        const i = ns.neighbours.findIndex((n) => n.dev === l.name && n.address === address);
        if (i < 0) throw new FakeFailure("NotFound", "No such file or directory");
        ns.neighbours.splice(i, 1);
        this.#emit({ type: "neigh", action: "deleted", dev: l.name, address, raw: `[NEIGH]Deleted ${address} dev ${l.name}` });
        return;
      }
      case "fdb.add": case "fdb.append": case "fdb.replace": case "fdb.delete": {
        const l = this.#link(op.spec.dev);
        const lladdr = checkMac(op.spec.lladdr, "lladdr");
        const dst = op.spec.dst === undefined ? "" : checkIp(op.spec.dst, "dst");
        const on = op.spec.on ?? "self";
        if (on === "self" && l.kind !== "vxlan" && l.kind !== "bridge") throw new FakeFailure("Unsupported", "Operation not supported");
        if (on === "master" && l.master === undefined) throw new FakeFailure("Unsupported", "Operation not supported");
        const key = `${l.name}|${lladdr}`;
        const e = ns.fdb.get(key);
        if (op.op === "fdb.delete") {
          if (!e || (dst !== "" && !e.dsts.includes(dst))) throw new FakeFailure("NotFound", "No such file or directory");
          e.dsts = dst === "" ? [] : e.dsts.filter((d) => d !== dst);
          if (e.dsts.length === 0) ns.fdb.delete(key);
          return;
        }
        const permanent = op.spec.permanent ?? true;
        if (op.op === "fdb.add" && e) throw new FakeFailure("Exists", "File exists");
        if (op.op === "fdb.append" && e) {
          if (e.dsts.includes(dst)) throw new FakeFailure("Exists", "File exists");
          e.dsts.push(dst);
          return;
        }
        ns.fdb.set(key, { dev: l.name, lladdr, dsts: [dst], on, permanent });
        return;
      }
      default: {
        const never: never = op;
        throw new TypeError(`unknown operation ${JSON.stringify(never)}`);
      }
    }
  }

  #addLink(spec: LinkSpec): void {
    const ns = this.#ns;
    const name = checkIfname(spec.name);
    if (spec.master !== undefined) this.#bridge(ns, spec.master);
    if (spec.type === "veth") {
      const peerKey = spec.peer.netns === undefined ? this.#key : (checkNetnsArg(spec.peer.netns, "peer.netns"), nsKey(spec.peer.netns));
      const peerNs = this.kernel.ns(peerKey);
      const peerName = checkIfname(spec.peer.name, "peer.name");
      if (ns.links.has(name) || peerNs.links.has(peerName) || (peerNs === ns && name === peerName)) throw new FakeFailure("Exists", "File exists");
      const a = this.#newLink(ns, name, "veth", spec.mtu, spec.mac);
      const b = this.#newLink(peerNs, peerName, "veth", spec.peer.mtu ?? spec.mtu, spec.peer.mac);
      a.peer = { ns: peerKey, name: peerName };
      b.peer = { ns: this.#key, name };
    } else if (spec.type === "vxlan") {
      const lower = spec.dev === undefined ? undefined : this.#link(spec.dev);
      // The kernel's default: 1500 alone, the lower device's MTU minus the 50-byte VXLAN/IPv4 overhead with `dev`.
      const l = this.#newLink(ns, name, "vxlan", spec.mtu ?? (lower ? lower.mtu - 50 : 1500), spec.mac);
      const vx: Mutable<VxlanInfo> = { id: spec.id, dstport: spec.dstport ?? 8472, learning: spec.learning ?? true, gbp: spec.gbp ?? false };
      if (spec.local !== undefined) vx.local = checkIp(spec.local, "local");
      if (spec.dev !== undefined) vx.dev = spec.dev;
      if (spec.group !== undefined) vx.group = spec.group;
      if (spec.remote !== undefined) vx.remote = spec.remote;
      l.vxlan = vx;
    } else if (spec.type === "bridge") {
      this.#newLink(ns, name, "bridge", spec.mtu, spec.mac);
    } else {
      this.#newLink(ns, name, "tun", spec.mtu, spec.mac);
    }
    if (spec.master !== undefined) this.#setLink(name, { master: spec.master });
    if (spec.up) this.#setLink(name, { up: true });
  }

  #bridge(ns: FNs, name: string): FLink {
    const br = this.#link(name, ns);
    if (br.kind !== "bridge") throw new FakeFailure("Unsupported", "Operation not supported");
    return br;
  }

  #setLink(rawName: string, c: LinkChanges): void {
    const ns = this.#ns;
    let l = this.#link(checkIfname(rawName));
    if (c.name !== undefined && c.name !== l.name) {
      if (ns.links.has(c.name)) throw new FakeFailure("Exists", "File exists");
      if (l.up) throw new FakeFailure("Failed", "Device or resource busy");
      ns.links.delete(l.name);
      l.name = c.name;
      ns.links.set(l.name, l);
    }
    if (c.mtu !== undefined) {
      if (c.mtu < 68) throw new FakeFailure("Invalid", "mtu less than device minimum");
      l.mtu = c.mtu;
    }
    if (c.mac !== undefined) l.mac = checkMac(c.mac, "mac");
    if (c.promisc !== undefined) l.promisc = c.promisc;
    if (c.master === null) {
      l.master = undefined;
      l.hairpin = false;
    } else if (c.master !== undefined) {
      this.#bridge(ns, c.master);
      l.master = c.master;
    }
    if (c.hairpin !== undefined) {
      if (l.master === undefined) throw new FakeFailure("Unsupported", "Operation not supported");
      l.hairpin = c.hairpin;
    }
    if (c.up !== undefined && c.up !== l.up) {
      l.up = c.up;
      if (c.up) {
        for (const a of ns.addresses) if (a.dev === l.name) this.#addPrefixRoute(ns, a);
      } else {
        ns.routes = ns.routes.filter((r) => r.dev !== l.name);
        ns.neighbours = ns.neighbours.filter((n) => n.dev !== l.name);
      }
      this.#emit({ type: "link", action: "new", index: l.index, name: l.name, up: l.up, raw: `[LINK]${l.index}: ${l.name}` });
    }
    if (c.netns !== undefined) {
      const to = this.kernel.ns(nsKey(c.netns));
      if (to.links.has(l.name)) throw new FakeFailure("Exists", "File exists");
      this.#detach(ns, l);
      ns.links.delete(l.name);
      l.index = to.nextIndex++;
      l.up = false;
      to.links.set(l.name, l);
      const moved = l;
      if (moved.peer) {
        const other = this.kernel.ns(moved.peer.ns).links.get(moved.peer.name);
        if (other?.peer) other.peer = { ns: nsKey(c.netns), name: moved.name };
      }
      l = moved;
    }
  }

  /** Removes everything that hangs off a link in its namespace. */
  #detach(ns: FNs, l: FLink): void {
    ns.addresses = ns.addresses.filter((a) => a.dev !== l.name);
    ns.routes = ns.routes.filter((r) => r.dev !== l.name);
    ns.neighbours = ns.neighbours.filter((n) => n.dev !== l.name);
    for (const [k, e] of ns.fdb) if (e.dev === l.name) ns.fdb.delete(k);
    for (const other of ns.links.values()) if (other.master === l.name) other.master = undefined;
  }

  #deleteLink(ns: FNs, name: string): void {
    const l = this.#link(name, ns);
    if (l.name === "lo") throw new FakeFailure("Unsupported", "Operation not supported");
    this.#detach(ns, l);
    ns.links.delete(name);
    this.#emit({ type: "link", action: "deleted", index: l.index, name, up: l.up, raw: `[LINK]Deleted ${l.index}: ${name}` }, ns);
    if (l.peer) {
      const peerNs = this.kernel.ns(l.peer.ns);
      const peer = peerNs.links.get(l.peer.name);
      if (peer) {
        peer.peer = undefined;
        this.#deleteLink(peerNs, peer.name);
      }
    }
  }

  #addPrefixRoute(ns: FNs, a: Address): void {
    const bits = a.family === 4 ? 32 : 128;
    if (a.prefixLength >= bits) return;
    const net = parseCidr(a.cidr);
    const dst = `${net.address}/${net.prefixLength}`;
    if (ns.routes.some((r) => r.dst === dst && r.dev === a.dev && r.table === "main")) return;
    ns.routes.push({ family: a.family, dst, dev: a.dev, onlink: false, src: a.address, scope: "link", table: "main", protocol: "kernel", type: "unicast", ...(a.family === 6 ? { metric: 256 } : {}) });
  }

  #dropPrefixRoute(ns: FNs, a: Address): void {
    if (a.prefixLength >= (a.family === 4 ? 32 : 128)) return;
    const net = parseCidr(a.cidr);
    const dst = `${net.address}/${net.prefixLength}`;
    ns.routes = ns.routes.filter((r) => !(r.dst === dst && r.dev === a.dev && r.protocol === "kernel"));
  }

  #route(ns: FNs, op: "route.add" | "route.replace" | "route.delete", spec: RouteSpec): void {
    const d = checkDst(spec.dst, spec.family);
    const table = spec.table === undefined ? "main" : String(spec.table);
    const defaultMetric = d.family === 6 ? 1024 : undefined;
    const metric = spec.metric ?? defaultMetric;
    const same = (r: Route): boolean => r.family === d.family && r.dst === d.text && r.table === table && (spec.metric === undefined && op === "route.delete" ? true : (r.metric ?? 0) === (metric ?? 0));
    if (op === "route.delete") {
      const i = ns.routes.findIndex((r) => same(r) && (spec.dev === undefined || r.dev === spec.dev) && (spec.via === undefined || r.via === checkIp(spec.via, "via")));
      if (i < 0) throw new FakeFailure("NotFound", "No such process");
      const [gone] = ns.routes.splice(i, 1);
      if (gone) this.#emit({ type: "route", action: "deleted", dst: gone.dst, table: gone.table, ...(gone.dev ? { dev: gone.dev } : {}), ...(gone.via ? { via: gone.via } : {}), raw: `[ROUTE]Deleted ${gone.dst}` });
      return;
    }
    let dev = spec.dev === undefined ? undefined : this.#link(spec.dev);
    const via = spec.via === undefined ? undefined : checkIp(spec.via, "via", d.family);
    const type = spec.type ?? "unicast";
    if (type === "unicast") {
      if (via === undefined) {
        if (!dev) throw new FakeFailure("Invalid", "Not enough information: \"dev\" argument is required");
        if (!dev.up) throw new FakeFailure("Unreachable", "Nexthop device is not up");
      } else if (spec.onlink) {
        if (!dev) throw new FakeFailure("Invalid", "Nexthop has invalid gateway");
        if (!dev.up) throw new FakeFailure("Unreachable", "Nexthop device is not up");
      } else {
        const gw = parseIp(via);
        const connected = ns.routes.find((r) =>
          r.table === "main" && r.via === undefined && r.dst !== "default" && r.family === gw.family && (!dev || r.dev === dev.name) &&
          cidrContains(parseCidr(r.dst), parseCidr(`${gw.address}/${gw.family === 4 ? 32 : 128}`)));
        if (!connected || !connected.dev) throw new FakeFailure("Unreachable", "Nexthop has invalid gateway");
        dev = this.#link(connected.dev);
        if (!dev.up) throw new FakeFailure("Unreachable", "Nexthop device is not up");
      }
    }
    const i = ns.routes.findIndex(same);
    if (i >= 0 && op === "route.add") throw new FakeFailure("Exists", "File exists");
    const r: Mutable<Route> = {
      family: d.family, dst: d.text === "default" && d.family === 6 ? "default" : d.text, onlink: spec.onlink ?? false,
      scope: spec.scope === undefined || spec.scope === "universe" ? (via === undefined && type === "unicast" ? "link" : "global") : spec.scope,
      table, protocol: spec.proto === undefined ? "boot" : String(spec.proto), type,
    };
    if (spec.scope === undefined && via === undefined && type === "unicast") r.scope = "link";
    if (via !== undefined) r.via = via;
    if (dev) r.dev = dev.name;
    if (spec.src !== undefined) r.src = checkIp(spec.src, "src");
    if (metric !== undefined) r.metric = metric;
    if (i >= 0) ns.routes[i] = r;
    else ns.routes.push(r);
    this.#emit({ type: "route", action: "new", dst: r.dst, table, ...(r.dev ? { dev: r.dev } : {}), ...(via ? { via } : {}), raw: `[ROUTE]${r.dst}` });
  }

  // -------------------------------------------------------------------------------------------
  // Readers

  #toLink(l: FLink, ns: FNs): Link {
    const flags = ["BROADCAST", "MULTICAST", ...(l.up ? ["UP", "LOWER_UP"] : [])];
    const out: Mutable<Link> = { index: l.index, name: l.name, mtu: l.mtu, mac: l.mac, up: l.up, operState: l.up ? "UP" : "DOWN", flags, promisc: l.promisc };
    if (l.kind !== undefined) out.kind = l.kind;
    if (l.master !== undefined) {
      out.master = l.master;
      out.hairpin = l.hairpin;
    }
    if (l.vxlan) out.vxlan = l.vxlan;
    if (l.peer) {
      if (l.peer.ns === this.#keyOf(ns)) out.link = l.peer.name;
      else {
        const p = this.kernel.ns(l.peer.ns).links.get(l.peer.name);
        if (p) out.linkIndex = p.index;
      }
    }
    return out;
  }

  #keyOf(ns: FNs): string {
    for (const k of this.kernel.namespaces()) if (this.kernel.ns(k) === ns) return k;
    return "";
  }

  protected async listLinks(options: ListLinksOptions): Promise<Link[]> {
    const ns = this.#ns;
    return [...ns.links.values()]
      .sort((a, b) => a.index - b.index)
      .map((l) => this.#toLink(l, ns))
      .filter((l) => (options.kind === undefined || l.kind === options.kind) && (options.master === undefined || l.master === options.master));
  }

  protected async getLink(name: string): Promise<Link | undefined> {
    checkIfname(name);
    const l = this.#ns.links.get(name);
    return l ? this.#toLink(l, this.#ns) : undefined;
  }

  protected async listAddresses(options: ListAddressesOptions): Promise<Address[]> {
    if (options.dev !== undefined && !this.#ns.links.has(options.dev)) {
      throw new IpRouteError("NotFound", `addr show dev ${options.dev}`, `Device "${options.dev}" does not exist`, { device: options.dev });
    }
    return this.#ns.addresses.filter((a) => (options.dev === undefined || a.dev === options.dev) && (options.family === undefined || a.family === options.family)).map((a) => ({ ...a }));
  }

  protected async listRoutes(options: ListRoutesOptions): Promise<Route[]> {
    const table = options.table === undefined ? "main" : String(options.table);
    return this.#ns.routes
      .filter((r) => (table === "all" || r.table === table) && (options.family === undefined || r.family === options.family) && (options.dev === undefined || r.dev === options.dev))
      .map((r) => ({ ...r }));
  }

  protected async getRoute(address: string): Promise<Route | undefined> {
    const ip = parseIp(checkIp(address, "address"));
    const host = parseCidr(`${ip.address}/${ip.family === 4 ? 32 : 128}`);
    let best: Route | undefined;
    let bestLen = -1;
    for (const r of this.#ns.routes) {
      if (r.table !== "main" || r.family !== ip.family || r.type !== "unicast") continue;
      const len = r.dst === "default" ? 0 : parseCidr(r.dst).prefixLength;
      if ((r.dst === "default" || cidrContains(parseCidr(r.dst), host)) && len > bestLen) {
        best = r;
        bestLen = len;
      }
    }
    return best ? { ...best, dst: `${host.address}/${host.prefixLength}` } : undefined;
  }

  protected async listNeighbours(options: ListNeighboursOptions): Promise<Neighbour[]> {
    return this.#ns.neighbours.filter((n) => (options.dev === undefined || n.dev === options.dev) && (options.family === undefined || n.family === options.family)).map((n) => ({ ...n }));
  }

  protected async listFdb(options: ListFdbOptions): Promise<FdbEntry[]> {
    const out: FdbEntry[] = [];
    for (const e of this.#ns.fdb.values()) {
      if (options.dev !== undefined && e.dev !== options.dev) continue;
      for (const dst of e.dsts) {
        out.push({ dev: e.dev, lladdr: e.lladdr, ...(dst ? { dst } : {}), flags: [e.on], state: e.permanent ? "permanent" : "" });
      }
    }
    return out;
  }

  #sysctlDev(key: string): void {
    const m = /^net\/ipv[46]\/(?:conf|neigh)\/([^/]+)\//.exec(key);
    if (m && m[1] !== "all" && m[1] !== "default" && !this.#ns.links.has(m[1] ?? "")) {
      throw new IpRouteError("NotFound", `sysctl ${key}`, `cannot stat /proc/sys/${key}: No such file or directory`);
    }
  }

  protected async sysctlGet(rawKey: string): Promise<string> {
    const key = checkSysctlKey(rawKey);
    this.#sysctlDev(key);
    return this.#ns.sysctl.get(key) ?? "0";
  }

  protected async sysctlSet(rawKey: string, value: string | number): Promise<void> {
    const key = checkSysctlKey(rawKey);
    const v = checkSysctlValue(value);
    this.#sysctlDev(key);
    this.#ns.sysctl.set(key, v);
  }

  async *monitor(options: MonitorOptions = {}): AsyncGenerator<IpEvent> {
    const objects = options.objects ?? ["link"];
    const queue: IpEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (ev: IpEvent): void => {
      if (!objects.includes(ev.type)) return;
      queue.push(ev);
      wake?.();
    };
    const ns = this.#ns;
    ns.listeners.add(listener);
    const onAbort = (): void => wake?.();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (!options.signal?.aborted) {
        const ev = queue.shift();
        if (ev) {
          yield ev;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      ns.listeners.delete(listener);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Seeds state from text in {@linkcode FakeIpRoute.dump}'s format (links, then their settings, then
   * addresses, routes, neighbours and FDB entries), so a test can start from a known kernel.
   * Routes with `proto kernel` are skipped: they come back from addresses on up links.
   *
   * @throws {SyntaxError} for a line it cannot read; {@linkcode BatchError} when the state is inconsistent
   */
  async load(text: string): Promise<void> {
    const links = new Batch();
    const settings = new Batch();
    const ups = new Batch();
    const rest = new Batch();
    const planned = new Set<string>();
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const w = line.split(/\s+/);
      const val = (k: string): string | undefined => {
        const i = w.indexOf(k, 1);
        return i >= 0 ? w[i + 1] : undefined;
      };
      const num = (k: string): number | undefined => (val(k) === undefined ? undefined : Number(val(k)));
      const bad = (): never => {
        throw new SyntaxError(`Cannot load fake state line ${JSON.stringify(line)}`);
      };
      const name = w[1] ?? bad();
      switch (w[0]) {
        case "link": {
          const type = val("type") ?? bad();
          const mtu = num("mtu");
          const common = { name, ...(mtu !== undefined ? { mtu } : {}) };
          if (type === "veth") {
            const peer = val("peer") ?? bad();
            const peerNs = val("netns");
            if (planned.has(name) || this.#ns.links.has(name)) break; // created as the peer of an earlier line
            if (peerNs === undefined || peerNs === "(own)") planned.add(peer);
            links.addLink({ type: "veth", ...common, peer: { name: peer, ...(peerNs !== undefined && peerNs !== "(own)" ? { netns: peerNs } : {}) } });
          } else if (type === "vxlan") {
            const local = val("local");
            const dev = val("dev");
            const dstport = num("dstport");
            links.addLink({
              type: "vxlan", ...common, id: num("id") ?? bad(), ...(local ? { local } : {}), ...(dev ? { dev } : {}), ...(dstport !== undefined ? { dstport } : {}),
              learning: !w.includes("nolearning"), gbp: w.includes("gbp"),
            });
          } else if (type === "bridge" || type === "tun" || type === "tap") {
            links.addLink({ type, ...common });
          } else bad();
          const master = val("master");
          if (master !== undefined || val("hairpin") === "on" || val("promisc") === "on") {
            settings.setLink(name, { ...(master !== undefined ? { master } : {}), ...(val("hairpin") === "on" ? { hairpin: true } : {}), ...(val("promisc") === "on" ? { promisc: true } : {}) });
          }
          if (w[w.length - 1] === "up") ups.setLink(name, { up: true });
          break;
        }
        case "addr":
          rest.addAddress({ dev: val("dev") ?? bad(), address: name });
          break;
        case "route": {
          if (val("proto") === "kernel") break;
          const typed = ["blackhole", "unreachable", "prohibit", "local"].includes(name);
          const dst = typed ? (w[2] ?? bad()) : name;
          const spec: Mutable<RouteSpec> = { dst, onlink: w.includes("onlink") };
          if (typed) spec.type = name as RouteSpec["type"] & string;
          const via = val("via");
          if (via !== undefined) spec.via = via;
          const dev = val("dev");
          if (dev !== undefined) spec.dev = dev;
          const table = val("table");
          if (table !== undefined) spec.table = table === "local" || table === "main" ? table : Number(table);
          const metric = num("metric");
          if (metric !== undefined) spec.metric = metric;
          const src = val("src");
          if (src !== undefined) spec.src = src;
          const scope = val("scope");
          if (scope !== undefined) spec.scope = scope as RouteSpec["scope"] & string;
          if (dst.includes(":") || via?.includes(":")) spec.family = 6;
          rest.addRoute(spec);
          break;
        }
        case "neigh":
          rest.addNeigh({ dev: val("dev") ?? bad(), address: name, lladdr: val("lladdr") ?? bad(), state: (val("nud") ?? "permanent") as "permanent" });
          break;
        case "fdb": {
          const dst = val("dst");
          const on = w.includes("master") ? "master" : "self";
          const spec = { dev: val("dev") ?? bad(), lladdr: name, ...(dst ? { dst } : {}), on, permanent: w.includes("permanent") } as const;
          // Several destinations for one MAC are several lines: the first adds, the rest append.
          const existing = rest.ops.some((o) => o.op.startsWith("fdb.") && "spec" in o && (o.spec as { lladdr?: string; dev?: string }).lladdr === name && (o.spec as { dev?: string }).dev === spec.dev);
          if (existing) rest.appendFdb(spec);
          else rest.addFdb(spec);
          break;
        }
        default:
          bad();
      }
    }
    for (const b of [links, settings, ups, rest]) await this.apply(b);
  }

  /**
   * The namespace's state in iproute2 syntax, one object per line, sorted within each kind:
   * `link`, `addr`, `route`, `neigh`, `fdb` lines (lo is left out).
   */
  dump(): string {
    const ns = this.#ns;
    const lines: string[] = [];
    for (const l of [...ns.links.values()].sort((a, b) => a.index - b.index)) {
      if (l.name === "lo") continue;
      const parts = [`link ${l.name}`, `type ${l.kind ?? "device"}`];
      if (l.vxlan) {
        const v = l.vxlan;
        parts.push(`id ${v.id}`);
        if (v.local) parts.push(`local ${v.local}`);
        if (v.dev) parts.push(`dev ${v.dev}`);
        parts.push(`dstport ${v.dstport}`);
        if (!v.learning) parts.push("nolearning");
        if (v.gbp) parts.push("gbp");
      }
      if (l.peer) parts.push(`peer ${l.peer.name}${l.peer.ns !== this.#key ? ` netns ${l.peer.ns || "(own)"}` : ""}`);
      parts.push(`mtu ${l.mtu}`);
      if (l.master) parts.push(`master ${l.master}`);
      if (l.hairpin) parts.push("hairpin on");
      if (l.promisc) parts.push("promisc on");
      parts.push(l.up ? "up" : "down");
      lines.push(parts.join(" "));
    }
    for (const a of [...ns.addresses].sort((x, y) => `${x.dev} ${x.cidr}`.localeCompare(`${y.dev} ${y.cidr}`))) lines.push(`addr ${a.cidr} dev ${a.dev}`);
    const routes = [...ns.routes].sort((x, y) => `${x.table} ${x.dst}`.localeCompare(`${y.table} ${y.dst}`));
    for (const r of routes) {
      const parts = [`route ${r.type !== "unicast" ? `${r.type} ` : ""}${r.dst}`];
      if (r.via) parts.push(`via ${r.via}`);
      if (r.dev) parts.push(`dev ${r.dev}`);
      if (r.table !== "main") parts.push(`table ${r.table}`);
      if (r.protocol !== "boot") parts.push(`proto ${r.protocol}`);
      if (r.scope !== "global") parts.push(`scope ${r.scope}`);
      if (r.src) parts.push(`src ${r.src}`);
      if (r.metric !== undefined && !(r.family === 6 && (r.metric === 1024 || r.metric === 256))) parts.push(`metric ${r.metric}`);
      if (r.onlink) parts.push("onlink");
      lines.push(parts.join(" "));
    }
    for (const n of [...ns.neighbours].sort((x, y) => `${x.dev} ${x.address}`.localeCompare(`${y.dev} ${y.address}`))) {
      lines.push(`neigh ${n.address} lladdr ${n.lladdr ?? ""} dev ${n.dev} nud ${n.state.join(",").toLowerCase()}`);
    }
    const fdb = [...ns.fdb.values()].sort((x, y) => `${x.dev} ${x.lladdr}`.localeCompare(`${y.dev} ${y.lladdr}`));
    for (const e of fdb) for (const d of e.dsts) lines.push(`fdb ${e.lladdr} dev ${e.dev}${d ? ` dst ${d}` : ""} ${e.on}${e.permanent ? " permanent" : ""}`);
    return lines.length ? lines.join("\n") + "\n" : "";
  }
}

class FakeFailure extends Error {
  readonly kind: IpRouteErrorKind;
  constructor(kind: IpRouteErrorKind, message: string) {
    super(message);
    this.name = "FakeFailure";
    this.kind = kind;
  }
}
