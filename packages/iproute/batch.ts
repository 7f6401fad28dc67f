import {
  checkDst, checkIfname, checkInt, checkIp, checkIpWithPrefix, checkMac, checkNetnsArg,
} from "./_validate.ts";
import type { AddressSpec, FdbSpec, IpFamily, LinkChanges, LinkSpec, NeighSpec, RouteSpec } from "./types.ts";

/** One operation of a {@linkcode Batch}, as plain data. */
export type BatchOp =
  | { readonly op: "link.add"; readonly spec: LinkSpec }
  | { readonly op: "link.set"; readonly name: string; readonly changes: LinkChanges }
  | { readonly op: "link.delete"; readonly name: string }
  | { readonly op: "address.add" | "address.replace" | "address.delete"; readonly spec: AddressSpec }
  | { readonly op: "address.flush"; readonly dev: string; readonly family?: IpFamily }
  | { readonly op: "route.add" | "route.replace" | "route.delete"; readonly spec: RouteSpec }
  | { readonly op: "neigh.add" | "neigh.replace" | "neigh.delete"; readonly spec: NeighSpec }
  | { readonly op: "fdb.add" | "fdb.append" | "fdb.replace" | "fdb.delete"; readonly spec: FdbSpec };

/** Which program runs a command. */
export type BatchTool = "ip" | "bridge";

/** One line of a batch script: the tool, its argv after the program name, and the operation it belongs to. */
export interface BatchCommand {
  readonly tool: BatchTool;
  readonly args: readonly string[];
  /** Index of the operation in {@linkcode Batch.ops}. */
  readonly index: number;
  /** The device the command is about (for error messages). */
  readonly device?: string;
  /** Global options the command needs (`-6`); commands with different flags run in different processes. */
  readonly flags?: readonly string[];
}

/**
 * Operations collected for one `ip -batch -` / `bridge -batch -` run, in order. Builder methods
 * validate their input but never throw: the first invalid operation is kept in
 * {@linkcode Batch.error} and makes `apply()` reject before anything runs (knftables style).
 *
 * @example
 * ```ts
 * const b = new Batch()
 *   .replaceNeigh({ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" })
 *   .replaceFdb({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" })
 *   .replaceRoute({ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true });
 * console.log(b.toString());
 * ```
 */
export class Batch {
  readonly #ops: BatchOp[] = [];
  readonly #commands: BatchCommand[] = [];
  #error: Error | undefined;

  /** The operations, in order. */
  get ops(): readonly BatchOp[] {
    return this.#ops;
  }

  /** The rendered commands, in order (several per operation where needed). */
  get commands(): readonly BatchCommand[] {
    return this.#commands;
  }

  /** The first validation error, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** How many operations. */
  get size(): number {
    return this.#ops.length;
  }

  /** Appends a raw operation (the named builder methods call this). */
  push(op: BatchOp): this {
    if (this.#error) return this;
    try {
      const rendered = renderOp(op);
      const index = this.#ops.length;
      this.#ops.push(op);
      for (const c of rendered) {
        (c as Rendered & { index: number }).index = index;
        this.#commands.push(c as Rendered & { index: number });
      }
    } catch (err) {
      this.#error = err as Error;
    }
    return this;
  }

  addLink(spec: LinkSpec): this { return this.push({ op: "link.add", spec }); }
  setLink(name: string, changes: LinkChanges): this { return this.push({ op: "link.set", name, changes }); }
  deleteLink(name: string): this { return this.push({ op: "link.delete", name }); }
  addAddress(spec: AddressSpec): this { return this.push({ op: "address.add", spec }); }
  replaceAddress(spec: AddressSpec): this { return this.push({ op: "address.replace", spec }); }
  deleteAddress(spec: AddressSpec): this { return this.push({ op: "address.delete", spec }); }
  flushAddresses(dev: string, options: { readonly family?: IpFamily } = {}): this {
    return this.push({ op: "address.flush", dev, ...(options.family ? { family: options.family } : {}) });
  }
  addRoute(spec: RouteSpec): this { return this.push({ op: "route.add", spec }); }
  replaceRoute(spec: RouteSpec): this { return this.push({ op: "route.replace", spec }); }
  deleteRoute(spec: RouteSpec): this { return this.push({ op: "route.delete", spec }); }
  addNeigh(spec: NeighSpec): this { return this.push({ op: "neigh.add", spec }); }
  replaceNeigh(spec: NeighSpec): this { return this.push({ op: "neigh.replace", spec }); }
  deleteNeigh(spec: NeighSpec): this { return this.push({ op: "neigh.delete", spec }); }
  addFdb(spec: FdbSpec): this { return this.push({ op: "fdb.add", spec }); }
  appendFdb(spec: FdbSpec): this { return this.push({ op: "fdb.append", spec }); }
  replaceFdb(spec: FdbSpec): this { return this.push({ op: "fdb.replace", spec }); }
  deleteFdb(spec: FdbSpec): this { return this.push({ op: "fdb.delete", spec }); }

  /**
   * Consecutive commands of the same tool, each one `ip -batch -` or `bridge -batch -` run,
   * with the script text fed on stdin.
   */
  segments(): BatchSegment[] {
    const out: BatchSegment[] = [];
    for (const c of this.#commands) {
      let last = out[out.length - 1];
      const flags = c.flags ?? [];
      if (!last || last.tool !== c.tool || last.flags.join(" ") !== flags.join(" ")) {
        last = { tool: c.tool, flags, commands: [] };
        out.push(last);
      }
      (last.commands as BatchCommand[]).push(c);
    }
    return out;
  }

  /** The scripts as they are fed to the tools, each preceded by a `# ip` / `# bridge` comment line. */
  toString(): string {
    return this.segments().map((s) => `# ${[s.tool, ...s.flags].join(" ")}\n${scriptOf(s)}`).join("");
  }
}

/** Commands for one process. */
export interface BatchSegment {
  readonly tool: BatchTool;
  /** Global options before `-batch` (e.g. `-4`). */
  readonly flags: readonly string[];
  readonly commands: readonly BatchCommand[];
}

/** The stdin text of one segment: one command per line. */
export function scriptOf(segment: BatchSegment): string {
  let text = "";
  for (const c of segment.commands) text += c.args.join(" ") + "\n";
  return text;
}

type Rendered = { tool: BatchTool; args: string[]; device?: string; flags?: string[] };

function ip(args: string[], device?: string): Rendered {
  return device === undefined ? { tool: "ip", args } : { tool: "ip", args, device };
}

function renderOp(op: BatchOp): Rendered[] {
  switch (op.op) {
    case "link.add": return renderLinkAdd(op.spec);
    case "link.set": return renderLinkSet(op.name, op.changes);
    case "link.delete": {
      const name = checkIfname(op.name);
      return [ip(["link", "del", "dev", name], name)];
    }
    case "address.add": case "address.replace": case "address.delete": {
      const s = op.spec;
      const dev = checkIfname(s.dev, "dev");
      const addr = checkIpWithPrefix(s.address, "address");
      const verb = op.op === "address.add" ? "add" : op.op === "address.replace" ? "replace" : "del";
      const args = ["addr", verb, addr.text];
      if (s.peer !== undefined) args.push("peer", checkIp(s.peer, "peer", addr.family));
      args.push("dev", dev);
      if (s.scope !== undefined && op.op !== "address.delete") args.push("scope", oneOf(s.scope, "scope", ["global", "link", "host", "site"]));
      if (s.noPrefixRoute && op.op !== "address.delete") args.push("noprefixroute");
      if (s.noDad && op.op !== "address.delete") {
        if (addr.family !== 6) throw new TypeError(`noDad applies to IPv6 addresses only, got ${addr.text}`);
        args.push("nodad");
      }
      return [ip(args, dev)];
    }
    case "address.flush": {
      const dev = checkIfname(op.dev, "dev");
      const args = ["addr", "flush", "dev", dev];
      // Batch lines cannot carry -4/-6; a family-specific flush runs as its own process.
      return op.family ? [{ ...ip(args, dev), flags: ["-" + checkFamily(op.family)] }] : [ip(args, dev)];
    }
    case "route.add": case "route.replace": case "route.delete": return [renderRoute(op.op.slice(6) as "add" | "replace" | "delete", op.spec)];
    case "neigh.add": case "neigh.replace": case "neigh.delete": {
      const s = op.spec;
      const dev = checkIfname(s.dev, "dev");
      const address = checkIp(s.address, "address");
      const verb = op.op === "neigh.add" ? "add" : op.op === "neigh.replace" ? "replace" : "del";
      const args = ["neigh", verb, address];
      if (op.op !== "neigh.delete") {
        if (s.lladdr === undefined) throw new TypeError(`lladdr is required to ${verb} neighbour ${address}`);
        args.push("lladdr", checkMac(s.lladdr, "lladdr"));
      }
      args.push("dev", dev);
      if (op.op !== "neigh.delete") args.push("nud", oneOf(s.state ?? "permanent", "state", ["permanent", "noarp", "reachable", "stale"]));
      return [ip(args, dev)];
    }
    case "fdb.add": case "fdb.append": case "fdb.replace": case "fdb.delete": {
      const s = op.spec;
      const dev = checkIfname(s.dev, "dev");
      const verb = op.op === "fdb.delete" ? "del" : op.op.slice(4);
      const args = ["fdb", verb, checkMac(s.lladdr, "lladdr"), "dev", dev];
      if (s.dst !== undefined) args.push("dst", checkIp(s.dst, "dst"));
      if (s.vni !== undefined) args.push("vni", String(checkInt(s.vni, "vni", 0, 0xffffff)));
      if (s.port !== undefined) args.push("port", String(checkInt(s.port, "port", 1, 65535)));
      args.push(oneOf(s.on ?? "self", "on", ["self", "master"]));
      if ((s.permanent ?? true) && op.op !== "fdb.delete") args.push("permanent");
      return [{ tool: "bridge", args, device: dev }];
    }
    default: {
      const never: never = op;
      throw new TypeError(`unknown batch operation ${JSON.stringify((never as { op?: unknown }).op)}`);
    }
  }
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new TypeError(`${field} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function checkFamily(f: unknown): IpFamily {
  if (f !== 4 && f !== 6) throw new TypeError(`family must be 4 or 6, got ${JSON.stringify(f)}`);
  return f;
}

function checkMtu(mtu: unknown, field = "mtu"): string {
  return String(checkInt(mtu, field, 68, 65535));
}

function renderLinkAdd(spec: LinkSpec): Rendered[] {
  if (spec === null || typeof spec !== "object") throw new TypeError("link spec must be an object");
  const name = checkIfname(spec.name);
  const out: Rendered[] = [];
  let args: string[];
  if (spec.type === "tun" || spec.type === "tap") {
    args = ["tuntap", "add", "dev", name, "mode", spec.type];
    if (spec.multiQueue) args.push("multi_queue");
    out.push(ip(args, name));
    const set: string[] = [];
    if (spec.mtu !== undefined) set.push("mtu", checkMtu(spec.mtu));
    if (spec.mac !== undefined) set.push("address", checkMac(spec.mac, "mac"));
    if (set.length) out.push(ip(["link", "set", "dev", name, ...set], name));
  } else {
    args = ["link", "add", name];
    if (spec.mtu !== undefined) args.push("mtu", checkMtu(spec.mtu));
    if (spec.mac !== undefined) args.push("address", checkMac(spec.mac, "mac"));
    switch (spec.type) {
      case "veth": {
        const peer = spec.peer;
        if (!peer || typeof peer !== "object") throw new TypeError("veth peer must be an object with a name");
        args.push("type", "veth", "peer", "name", checkIfname(peer.name, "peer.name"));
        if (peer.mtu !== undefined) args.push("mtu", checkMtu(peer.mtu, "peer.mtu"));
        else if (spec.mtu !== undefined) args.push("mtu", checkMtu(spec.mtu));
        if (peer.mac !== undefined) args.push("address", checkMac(peer.mac, "peer.mac"));
        if (peer.netns !== undefined) args.push("netns", checkNetnsArg(peer.netns, "peer.netns"));
        break;
      }
      case "bridge":
        args.push("type", "bridge");
        if (spec.stp !== undefined) args.push("stp_state", spec.stp ? "1" : "0");
        if (spec.vlanFiltering !== undefined) args.push("vlan_filtering", spec.vlanFiltering ? "1" : "0");
        break;
      case "vxlan":
        args.push("type", "vxlan", "id", String(checkInt(spec.id, "id", 0, 0xffffff)));
        if (spec.local !== undefined) args.push("local", checkIp(spec.local, "local"));
        if (spec.group !== undefined) args.push("group", checkIp(spec.group, "group"));
        if (spec.remote !== undefined) args.push("remote", checkIp(spec.remote, "remote"));
        if (spec.dev !== undefined) args.push("dev", checkIfname(spec.dev, "dev"));
        if (spec.dstport !== undefined) args.push("dstport", String(checkInt(spec.dstport, "dstport", 0, 65535)));
        if (spec.ttl !== undefined) args.push("ttl", String(checkInt(spec.ttl, "ttl", 0, 255)));
        if (spec.learning === false) args.push("nolearning");
        if (spec.gbp) args.push("gbp");
        break;
      default:
        throw new TypeError(`link type must be veth, bridge, vxlan, tun or tap, got ${JSON.stringify((spec as { type?: unknown }).type)}`);
    }
    out.push(ip(args, name));
  }
  if (spec.master !== undefined) out.push(ip(["link", "set", "dev", name, "master", checkIfname(spec.master, "master")], name));
  if (spec.up) out.push(ip(["link", "set", "dev", name, "up"], name));
  return out;
}

function renderLinkSet(rawName: string, changes: LinkChanges): Rendered[] {
  const name = checkIfname(rawName);
  if (changes === null || typeof changes !== "object") throw new TypeError("link changes must be an object");
  const out: Rendered[] = [];
  const main: string[] = [];
  // Order: move/rename first, then master (a port must exist before hairpin), then state.
  if (changes.mtu !== undefined) main.push("mtu", checkMtu(changes.mtu));
  if (changes.mac !== undefined) main.push("address", checkMac(changes.mac, "mac"));
  if (changes.promisc !== undefined) main.push("promisc", changes.promisc ? "on" : "off");
  if (changes.master === null) main.push("nomaster");
  else if (changes.master !== undefined) main.push("master", checkIfname(changes.master, "master"));
  let current = name;
  if (changes.name !== undefined) {
    const to = checkIfname(changes.name, "changes.name");
    out.push(ip(["link", "set", "dev", name, "name", to], name));
    current = to;
  }
  if (main.length) out.push(ip(["link", "set", "dev", current, ...main], current));
  if (changes.hairpin !== undefined) out.push(ip(["link", "set", "dev", current, "type", "bridge_slave", "hairpin", changes.hairpin ? "on" : "off"], current));
  if (changes.up !== undefined) out.push(ip(["link", "set", "dev", current, changes.up ? "up" : "down"], current));
  if (changes.netns !== undefined) out.push(ip(["link", "set", "dev", current, "netns", checkNetnsArg(changes.netns)], current));
  if (out.length === 0) throw new TypeError(`link set ${name}: no changes given`);
  return out;
}

function renderRoute(verb: "add" | "replace" | "delete", s: RouteSpec): Rendered {
  if (s === null || typeof s !== "object") throw new TypeError("route spec must be an object");
  if (s.family !== undefined) checkFamily(s.family);
  const dst = checkDst(s.dst, s.family);
  if (s.family !== undefined && s.family !== dst.family) throw new TypeError(`dst ${s.dst} is not an IPv${s.family} destination`);
  const args = ["route", verb === "delete" ? "del" : verb];
  if (s.type !== undefined && s.type !== "unicast") args.push(oneOf(s.type, "type", ["blackhole", "unreachable", "prohibit", "local"]));
  // `default` means 0.0.0.0/0 to a batch line (no -6 possible per line).
  args.push(dst.text === "default" && dst.family === 6 ? "::/0" : dst.text);
  if (s.via !== undefined) args.push("via", checkIp(s.via, "via", dst.family));
  let dev: string | undefined;
  if (s.dev !== undefined) args.push("dev", (dev = checkIfname(s.dev, "dev")));
  if (s.src !== undefined) args.push("src", checkIp(s.src, "src", dst.family));
  if (s.table !== undefined) {
    const t = typeof s.table === "number" ? String(checkInt(s.table, "table", 1, 2 ** 32 - 1)) : oneOf(s.table, "table", ["main", "local"]);
    args.push("table", t);
  }
  if (s.metric !== undefined) args.push("metric", String(checkInt(s.metric, "metric", 0, 2 ** 32 - 1)));
  if (s.proto !== undefined) {
    const p = typeof s.proto === "number" ? String(checkInt(s.proto, "proto", 0, 255)) : oneOf(s.proto, "proto", ["boot", "static", "kernel", "dhcp"]);
    args.push("proto", p);
  }
  if (s.scope !== undefined) args.push("scope", oneOf(s.scope, "scope", ["universe", "global", "site", "link", "host", "nowhere"]));
  if (s.mtu !== undefined) args.push("mtu", checkMtu(s.mtu));
  if (s.onlink) args.push("onlink");
  return ip(args, dev);
}
