import type { Address, FdbEntry, IpEvent, IpFamily, Link, Neighbour, Route } from "./types.ts";

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** One `Command failed <file>:<line>` report of `ip -batch`/`bridge -batch`, with the stderr text printed before it. */
export interface BatchFailureReport {
  readonly file: string;
  /** 1-based line of the batch input. */
  readonly line: number;
  readonly text: string;
}

/** The failure reports in a batch run's stderr, in order (text not followed by a report is dropped). */
export function batchFailureReports(stderr: string): BatchFailureReport[] {
  const out: BatchFailureReport[] = [];
  let pending: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^Command failed (.*):(\d+)$/.exec(line.trim());
    if (!m) {
      if (line.trim()) pending.push(line);
      continue;
    }
    out.push({ file: m[1]!, line: Number(m[2]), text: pending.join("\n") });
    pending = [];
  }
  return out;
}

/** Parses iproute2 JSON output (empty output = empty list). */
export function parseJsonArray(text: string, what: string): Json[] {
  const t = text.trim();
  if (t === "") return [];
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (err) {
    throw new SyntaxError(`Cannot parse ${what} JSON from iproute2: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(v)) throw new SyntaxError(`Cannot parse ${what} JSON from iproute2: expected an array`);
  return v.filter((x): x is Json => x !== null && typeof x === "object");
}

/** `ip -d -json link show` entry → Link. */
export function toLink(j: Json): Link {
  const flags = strs(j.flags);
  const info = (j.linkinfo ?? {}) as Json;
  const kind = str(info.info_kind);
  const slave = (info.info_slave_data ?? undefined) as Json | undefined;
  const data = (info.info_data ?? {}) as Json;
  const link: {
    -readonly [K in keyof Link]: Link[K];
  } = {
    index: num(j.ifindex) ?? 0,
    name: str(j.ifname) ?? "",
    mtu: num(j.mtu) ?? 0,
    up: flags.includes("UP"),
    operState: str(j.operstate) ?? "UNKNOWN",
    flags,
    promisc: flags.includes("PROMISC"),
  };
  if (kind !== undefined) link.kind = kind;
  const mac = str(j.address);
  if (mac !== undefined && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) link.mac = mac;
  const master = str(j.master);
  if (master !== undefined) link.master = master;
  if (slave && typeof slave.hairpin === "boolean") link.hairpin = slave.hairpin;
  const peer = str(j.link);
  if (peer !== undefined) link.link = peer;
  const peerIndex = num(j.link_index);
  if (peerIndex !== undefined) link.linkIndex = peerIndex;
  if (kind === "vxlan") {
    const vx: { -readonly [K in keyof NonNullable<Link["vxlan"]>]: NonNullable<Link["vxlan"]>[K] } = {
      id: num(data.id) ?? 0,
      dstport: num(data.port) ?? 8472,
      learning: data.learning !== false,
      gbp: data.gbp === true,
    };
    const local = str(data.local) ?? str(data.local6);
    if (local !== undefined) vx.local = local;
    const dev = str(data.link);
    if (dev !== undefined) vx.dev = dev;
    const group = str(data.group) ?? str(data.group6);
    if (group !== undefined) vx.group = group;
    const remote = str(data.remote) ?? str(data.remote6);
    if (remote !== undefined) vx.remote = remote;
    link.vxlan = vx;
  }
  return link;
}

/** `ip -json addr show` → one Address per addr_info entry. */
export function toAddresses(j: Json): Address[] {
  const dev = str(j.ifname) ?? "";
  const infos = Array.isArray(j.addr_info) ? (j.addr_info as Json[]) : [];
  const out: Address[] = [];
  for (const a of infos) {
    const fam = str(a.family);
    const local = str(a.local);
    const prefixLength = num(a.prefixlen);
    if ((fam !== "inet" && fam !== "inet6") || local === undefined || prefixLength === undefined) continue;
    out.push({ dev, family: fam === "inet" ? 4 : 6, address: local, prefixLength, cidr: `${local}/${prefixLength}`, scope: str(a.scope) ?? "global" });
  }
  return out;
}

/** `ip -json route show` entry → Route. */
export function toRoute(j: Json, family: IpFamily, tableDefault = "main"): Route {
  let dst = str(j.dst) ?? "default";
  if (dst !== "default" && !dst.includes("/")) dst = `${dst}/${family === 4 ? 32 : 128}`;
  const flags = strs(j.flags);
  const r: { -readonly [K in keyof Route]: Route[K] } = {
    family,
    dst,
    onlink: flags.includes("onlink"),
    scope: str(j.scope) ?? "global",
    table: str(j.table) ?? (num(j.table) !== undefined ? String(j.table) : tableDefault),
    protocol: str(j.protocol) ?? (num(j.protocol) !== undefined ? String(j.protocol) : "boot"),
    type: str(j.type) ?? "unicast",
  };
  const via = str(j.gateway) ?? (typeof j.via === "object" && j.via !== null ? str((j.via as Json).host) : undefined);
  if (via !== undefined) r.via = via;
  const dev = str(j.dev);
  if (dev !== undefined) r.dev = dev;
  const src = str(j.prefsrc);
  if (src !== undefined) r.src = src;
  const metric = num(j.metric);
  if (metric !== undefined) r.metric = metric;
  return r;
}

/** `ip -json neigh show` entry → Neighbour (entries without an address are skipped by the caller). */
export function toNeighbour(j: Json, devDefault?: string): Neighbour | undefined {
  const address = str(j.dst);
  if (address === undefined) return undefined;
  const n: { -readonly [K in keyof Neighbour]: Neighbour[K] } = {
    family: address.includes(":") ? 6 : 4,
    dev: str(j.dev) ?? devDefault ?? "",
    address,
    state: strs(j.state),
  };
  const lladdr = str(j.lladdr);
  if (lladdr !== undefined) n.lladdr = lladdr;
  return n;
}

/** `bridge -json fdb show` entry → FdbEntry. */
export function toFdb(j: Json, devDefault?: string): FdbEntry | undefined {
  const lladdr = str(j.mac);
  if (lladdr === undefined) return undefined;
  const f: { -readonly [K in keyof FdbEntry]: FdbEntry[K] } = {
    dev: str(j.ifname) ?? devDefault ?? "",
    lladdr,
    flags: strs(j.flags),
    state: str(j.state) ?? "",
  };
  const dst = str(j.dst);
  if (dst !== undefined) f.dst = dst;
  const master = str(j.master);
  if (master !== undefined) f.master = master;
  const vlan = num(j.vlan);
  if (vlan !== undefined) f.vlan = vlan;
  return f;
}

const LINK_RE = /^(\d+): ([^:@\s]+)(?:@[^:\s]+)?: <([^>]*)>/;
const ADDR_RE = /^\d+: (\S+)\s+inet6? (\S+)/;

/** One line of `ip -o monitor label ...` → event (undefined for lines we do not model). */
export function parseMonitorLine(line: string): IpEvent | undefined {
  const m = /^\[(LINK|ADDR|ROUTE|NEIGH)\](.*)$/.exec(line);
  if (!m) return undefined;
  let rest = m[2] ?? "";
  let action: "new" | "deleted" = "new";
  if (rest.startsWith("Deleted ")) {
    action = "deleted";
    rest = rest.slice(8);
  }
  const raw = line;
  switch (m[1]) {
    case "LINK": {
      const l = LINK_RE.exec(rest);
      if (!l) return undefined;
      const flags = (l[3] ?? "").split(",");
      return { type: "link", action, index: Number(l[1]), name: l[2] ?? "", up: flags.includes("UP"), raw };
    }
    case "ADDR": {
      const a = ADDR_RE.exec(rest);
      if (!a) return undefined;
      return { type: "address", action, dev: a[1] ?? "", cidr: a[2] ?? "", raw };
    }
    case "ROUTE": {
      const words = rest.trim().split(/\s+/);
      let i = 0;
      if (["local", "broadcast", "unreachable", "blackhole", "prohibit", "multicast", "anycast", "unicast", "throw", "nat"].includes(words[0] ?? "")) i = 1;
      const dst = words[i];
      if (dst === undefined || dst === "") return undefined;
      const get = (k: string): string | undefined => {
        const at = words.indexOf(k, i + 1);
        return at >= 0 ? words[at + 1] : undefined;
      };
      const dev = get("dev");
      const via = get("via");
      const ev: { type: "route"; action: "new" | "deleted"; dst: string; dev?: string; via?: string; table: string; raw: string } = {
        type: "route", action, dst, table: get("table") ?? "main", raw,
      };
      if (dev !== undefined) ev.dev = dev;
      if (via !== undefined) ev.via = via;
      return ev;
    }
    case "NEIGH": {
      const words = rest.trim().split(/\s+/);
      if (words[0] === "miss" || words[0] === undefined) return undefined;
      const at = words.indexOf("dev");
      const ll = words.indexOf("lladdr");
      const dev = at >= 0 ? words[at + 1] : undefined;
      if (dev === undefined) return undefined;
      const ev: { type: "neigh"; action: "new" | "deleted"; dev: string; address: string; lladdr?: string; raw: string } = {
        type: "neigh", action, dev, address: words[0], raw,
      };
      const lladdr = ll >= 0 ? words[ll + 1] : undefined;
      if (lladdr !== undefined) ev.lladdr = lladdr;
      return ev;
    }
    default:
      return undefined;
  }
}
