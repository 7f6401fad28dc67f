/**
 * Plain data shared by the iproute2 wrapper, its batch builder and its fake: what to create
 * (specs), what the kernel reports back (listings), monitor events, and the exec seam.
 *
 * Addresses are strings in iproute2's own text form (`10.244.1.0/24`, `fe80::1`), validated
 * before any command runs. MAC addresses are `aa:bb:cc:dd:ee:ff` (any case on input, lower
 * case in listings).
 */

/** 4 or 6. */
export type IpFamily = 4 | 6;

/** A namespace: a name under /var/run/netns (`ip -n <name>`) or a path such as `/proc/<pid>/ns/net`. */
export type NetnsHandle = string;

// ---------------------------------------------------------------------------------------------
// Links

/** Fields every created link may set. */
export interface LinkCommon {
  /** Interface name: 1-15 bytes, no `/`, no whitespace, not `.` or `..`. */
  readonly name: string;
  /** @default kernel default (1500 for most types) */
  readonly mtu?: number;
  /** MAC address, e.g. `0e:2a:00:00:00:01`. @default random (kernel) */
  readonly mac?: string;
  /** Enslave to this bridge right after creation. @default none */
  readonly master?: string;
  /** Bring the link up right after creation. @default false */
  readonly up?: boolean;
}

/** `ip link add <name> type veth peer name <peer.name> [netns <peer.netns>]`. */
export interface VethSpec extends LinkCommon {
  readonly type: "veth";
  readonly peer: {
    readonly name: string;
    /** Namespace to create the peer in: a name, a path (`/proc/<pid>/ns/net`) or a pid. @default same namespace */
    readonly netns?: NetnsHandle | number;
    /** @default random */
    readonly mac?: string;
    /** @default same as the link */
    readonly mtu?: number;
  };
}

/** `ip link add <name> type bridge`. */
export interface BridgeSpec extends LinkCommon {
  readonly type: "bridge";
  /** Spanning tree. @default false (kernel default) */
  readonly stp?: boolean;
  /** Whether bridge ports learn VLAN filtering. @default kernel default (off) */
  readonly vlanFiltering?: boolean;
}

/** `ip link add <name> type vxlan id <id> ...` with every option flannel sets. */
export interface VxlanSpec extends LinkCommon {
  readonly type: "vxlan";
  /** VNI. */
  readonly id: number;
  /** Source address for encapsulated packets (`local`). @default none */
  readonly local?: string;
  /** Underlay device name (`dev`). @default none */
  readonly dev?: string;
  /** UDP destination port (`dstport`). @default 8472 (the kernel's default when omitted) */
  readonly dstport?: number;
  /** Learn remote MACs from traffic; false adds `nolearning`. @default true (kernel default) */
  readonly learning?: boolean;
  /** Group Based Policy extension (`gbp`). @default false */
  readonly gbp?: boolean;
  /** Multicast group (`group`). @default none */
  readonly group?: string;
  /** Default remote (`remote`). @default none */
  readonly remote?: string;
  /** TTL of encapsulated packets. @default kernel default */
  readonly ttl?: number;
}

/** `ip tuntap add dev <name> mode tun|tap` (persistent device). */
export interface TunSpec extends LinkCommon {
  readonly type: "tun" | "tap";
  /** Create with IFF_MULTI_QUEUE. @default false */
  readonly multiQueue?: boolean;
}

/** What `link.add()` creates. */
export type LinkSpec = VethSpec | BridgeSpec | VxlanSpec | TunSpec;

/** Changes for `ip link set dev <name> ...`; unset fields are left alone. */
export interface LinkChanges {
  readonly up?: boolean;
  readonly mtu?: number;
  readonly mac?: string;
  /** Bridge to enslave to; `null` releases (`nomaster`). */
  readonly master?: string | null;
  /** Hairpin mode on the bridge port (`type bridge_slave hairpin on|off`); the link must be enslaved. */
  readonly hairpin?: boolean;
  readonly promisc?: boolean;
  /** Rename (the link should be down). */
  readonly name?: string;
  /** Move to another namespace (name, path or pid). */
  readonly netns?: NetnsHandle | number;
}

/** VXLAN details of a listed link (`ip -d -json link show`). */
export interface VxlanInfo {
  readonly id: number;
  readonly local?: string;
  /** Underlay device name (`dev`), when set. */
  readonly dev?: string;
  readonly dstport: number;
  readonly learning: boolean;
  readonly gbp: boolean;
  readonly group?: string;
  readonly remote?: string;
}

/** A link as listed by `ip -d -json link show`. */
export interface Link {
  readonly index: number;
  readonly name: string;
  /** `veth`, `bridge`, `vxlan`, `tun`; undefined for plain devices (lo, physical NICs). */
  readonly kind?: string;
  readonly mtu: number;
  readonly mac?: string;
  /** Administratively up (`UP` flag). */
  readonly up: boolean;
  /** Operational state: `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`, ... */
  readonly operState: string;
  readonly flags: readonly string[];
  /** Name of the bridge this link is enslaved to. */
  readonly master?: string;
  readonly promisc: boolean;
  /** Hairpin mode when the link is a bridge port. */
  readonly hairpin?: boolean;
  /** Name of the peer/lower device when it is in the same namespace (`v1@v2`). */
  readonly link?: string;
  /** Index of the peer/lower device when it is in another namespace. */
  readonly linkIndex?: number;
  readonly vxlan?: VxlanInfo;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** `ip addr add|replace|del <address> dev <dev> ...`. */
export interface AddressSpec {
  readonly dev: string;
  /** Address with prefix length, e.g. `10.244.1.0/32` or `fd00::1/64`. */
  readonly address: string;
  /** @default `global` */
  readonly scope?: "global" | "link" | "host" | "site";
  /** Peer address for point-to-point links. @default none */
  readonly peer?: string;
  /** Do not add the prefix route (`noprefixroute`). @default false */
  readonly noPrefixRoute?: boolean;
  /** Skip IPv6 duplicate address detection (`nodad`), so the address is usable at once. @default false */
  readonly noDad?: boolean;
}

/** An address as listed by `ip -json addr show`. */
export interface Address {
  readonly dev: string;
  readonly family: IpFamily;
  /** The address alone, e.g. `10.244.1.0`. */
  readonly address: string;
  readonly prefixLength: number;
  /** `address/prefixLength`. */
  readonly cidr: string;
  readonly scope: string;
}

// ---------------------------------------------------------------------------------------------
// Routes

/** Scope of a route. */
export type RouteScope = "universe" | "global" | "site" | "link" | "host" | "nowhere";

/** `ip route add|replace|del <dst> ...`. */
export interface RouteSpec {
  /** Destination CIDR (`10.244.2.0/24`), a bare address (= /32 or /128), or `default`. */
  readonly dst: string;
  /** Family, needed only for `default` routes. @default 4 for `default`, else from `dst` */
  readonly family?: IpFamily;
  /** Gateway. @default none (directly connected) */
  readonly via?: string;
  /** Output device. @default chosen by the kernel from `via` */
  readonly dev?: string;
  /** Treat the gateway as on-link even without a matching prefix (`onlink`). @default false */
  readonly onlink?: boolean;
  /** Preferred source address. @default none */
  readonly src?: string;
  /** @default kernel default (`universe` with a gateway, `link` without) */
  readonly scope?: RouteScope;
  /** Table number or name (`main`, `local`). @default main */
  readonly table?: number | "main" | "local";
  /** @default kernel default (0) */
  readonly metric?: number;
  /** Route type. @default `unicast` */
  readonly type?: "unicast" | "blackhole" | "unreachable" | "prohibit" | "local";
  /** Protocol tag (`proto`), e.g. a number or `static`, `boot`. @default boot */
  readonly proto?: string | number;
  /** Route MTU (`mtu`). @default none */
  readonly mtu?: number;
}

/** A route as listed by `ip -json route show`. */
export interface Route {
  readonly family: IpFamily;
  /** `default` or a canonical CIDR (`10.244.2.0/24`; host routes get `/32` or `/128`). */
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly onlink: boolean;
  readonly src?: string;
  readonly scope: string;
  /** Table name or number as text; `main` for the main table. */
  readonly table: string;
  readonly protocol: string;
  readonly metric?: number;
  readonly type: string;
}

// ---------------------------------------------------------------------------------------------
// Neighbours and FDB

/** Neighbour state. */
export type NeighState = "permanent" | "noarp" | "reachable" | "stale";

/** `ip neigh add|replace|del <address> lladdr <lladdr> dev <dev> nud <state>`. */
export interface NeighSpec {
  readonly dev: string;
  readonly address: string;
  /** MAC; not needed for `delete`. */
  readonly lladdr?: string;
  /** @default `permanent` */
  readonly state?: NeighState;
}

/** A neighbour as listed by `ip -json neigh show`. */
export interface Neighbour {
  readonly family: IpFamily;
  readonly dev: string;
  readonly address: string;
  readonly lladdr?: string;
  /** Upper-case states as iproute2 prints them, e.g. `["PERMANENT"]`. */
  readonly state: readonly string[];
}

/** `bridge fdb add|append|replace|del <lladdr> dev <dev> [dst <dst>] self|master permanent`. */
export interface FdbSpec {
  readonly dev: string;
  readonly lladdr: string;
  /** Remote VTEP address (vxlan). @default none */
  readonly dst?: string;
  /** Entry on the device itself (`self`, vxlan) or on its bridge (`master`). @default `self` */
  readonly on?: "self" | "master";
  /** @default true (`permanent`) */
  readonly permanent?: boolean;
  /** VNI (vxlan with external/collect_metadata). @default none */
  readonly vni?: number;
  /** Remote UDP port. @default none */
  readonly port?: number;
}

/** An FDB entry as listed by `bridge -json fdb show`. */
export interface FdbEntry {
  readonly dev: string;
  readonly lladdr: string;
  readonly dst?: string;
  /** `self` and/or `master`, ... as printed. */
  readonly flags: readonly string[];
  /** `permanent`, `static` or `` (dynamic). */
  readonly state: string;
  readonly master?: string;
  readonly vlan?: number;
}

// ---------------------------------------------------------------------------------------------
// Events

/** A change reported by `ip monitor`. */
export type IpEvent =
  | { readonly type: "link"; readonly action: "new" | "deleted"; readonly index: number; readonly name: string; readonly up: boolean; readonly raw: string }
  | { readonly type: "address"; readonly action: "new" | "deleted"; readonly dev: string; readonly cidr: string; readonly raw: string }
  | { readonly type: "route"; readonly action: "new" | "deleted"; readonly dst: string; readonly dev?: string; readonly via?: string; readonly table: string; readonly raw: string }
  | { readonly type: "neigh"; readonly action: "new" | "deleted"; readonly dev: string; readonly address: string; readonly lladdr?: string; readonly raw: string };

/** Which objects a monitor reports. */
export type MonitorObject = IpEvent["type"];

// ---------------------------------------------------------------------------------------------
// Exec seam

/** Result of a finished process. */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; non-zero is not a rejection. */
  readonly code: number;
}

/** Options of {@linkcode Exec.run}. */
export interface ExecRunOptions {
  /** Written to stdin, then stdin is closed. @default nothing (stdin closed) */
  readonly input?: string;
  /** Kill the process after this long and reject. @default 30000 */
  readonly timeoutMs?: number;
}

/** Options of {@linkcode Exec.lines}. */
export interface ExecLinesOptions {
  /** Stops the process and ends the iteration. */
  readonly signal?: AbortSignal;
}

/**
 * How commands run; inject a recording implementation in unit tests to check argv and stdin.
 * argv[0] is the program (`ip`, `bridge`, `nsenter`, `sysctl`), never a shell.
 */
export interface Exec {
  /** Runs argv to completion. Rejects only when the program cannot start or times out. */
  run(argv: readonly string[], options?: ExecRunOptions): Promise<ExecResult>;
  /** Runs a long-lived argv (`ip monitor`) and yields stdout line by line until it exits or `signal` aborts. */
  lines(argv: readonly string[], options?: ExecLinesOptions): AsyncIterable<string>;
}
