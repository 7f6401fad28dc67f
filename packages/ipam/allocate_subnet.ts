import { bitsOf, formatBigInt, hostMask, toBigInt } from "./_bits.ts";
import { formatCidr } from "./parse_cidr.ts";
import type { Cidr, IpAddr } from "./types.ts";

/**
 * Where node subnets come from (flannel's Network + SubnetLen/SubnetMin/SubnetMax, one family).
 * `subnetMin`/`subnetMax` are the network addresses of the first and last subnet that may be handed out.
 */
export interface SubnetWindow {
  readonly network: Cidr;
  readonly subnetLen: number;
  readonly subnetMin: IpAddr;
  readonly subnetMax: IpAddr;
}

/** Options for {@linkcode allocateSubnet}. */
export interface AllocateSubnetOptions {
  /** Subnets already leased (any prefix length, any family; other families are ignored). @default [] */
  taken?: Iterable<Cidr>;
  /** The subnet this node had before (from subnet.env), reused when free and compatible. @default undefined */
  previous?: Cidr;
  /** Random source in [0, 1), as `Math.random`. @default Math.random */
  random?: () => number;
  /** How many free subnets to collect before picking one at random (flannel: 100). @default 100 */
  candidates?: number;
}

/** No subnet of the window is free. The message is flannel's, exactly `out of subnets`. */
export class OutOfSubnetsError extends Error {
  /** The exhausted window. */
  readonly window: SubnetWindow;
  constructor(window: SubnetWindow, options?: ErrorOptions) {
    super("out of subnets", options);
    this.name = "OutOfSubnetsError";
    this.window = window;
  }
}

function checkWindow(window: SubnetWindow): { min: bigint; max: bigint; step: bigint } {
  const { network, subnetLen, subnetMin, subnetMax } = window;
  const bits = bitsOf(network.family);
  if (!Number.isInteger(subnetLen) || subnetLen < network.prefixLength || subnetLen > bits) {
    throw new RangeError(`window.subnetLen must be an integer in ${network.prefixLength}..${bits}, got ${subnetLen}`);
  }
  const netMask = ~hostMask(network.family, network.prefixLength);
  const net = toBigInt(network) & netMask;
  const check = (ip: IpAddr, name: string): bigint => {
    if (ip.family !== network.family) throw new RangeError(`window.${name} ${ip.address} is not IPv${network.family}`);
    const n = toBigInt(ip);
    if ((n & netMask) !== net) throw new RangeError(`window.${name} ${ip.address} is not in the range of the network ${formatCidr(network)}`);
    if ((n & hostMask(network.family, subnetLen)) !== 0n) throw new RangeError(`window.${name} is not on a SubnetLen boundary: ${ip.address}`);
    return n;
  };
  return { min: check(subnetMin, "subnetMin"), max: check(subnetMax, "subnetMax"), step: 1n << BigInt(bits - subnetLen) };
}

/**
 * Whether a subnet may be (re)used in this window: flannel's `isSubnetConfigCompat`, i.e. same family,
 * subnetMin <= subnet <= subnetMax and prefix length == subnetLen.
 */
export function subnetFitsWindow(window: SubnetWindow, subnet: Cidr): boolean {
  if (subnet.family !== window.network.family || subnet.prefixLength !== window.subnetLen) return false;
  const n = toBigInt(subnet);
  return n >= toBigInt(window.subnetMin) && n <= toBigInt(window.subnetMax);
}

/**
 * Picks a node subnet with flannel's semantics (etcd `tryAcquireLease`, per family):
 * 1. `previous`, if it fits the window and no taken subnet overlaps it;
 * 2. otherwise walk from subnetMin to subnetMax in subnet steps, collect the first `candidates` (100)
 *    subnets that overlap no taken subnet, and pick one at random;
 * 3. none free: {@linkcode OutOfSubnetsError} ("out of subnets").
 *
 * Pure: the answer depends only on the arguments. Taken subnets of length `subnetLen` are looked up in a
 * Set; others (rare) are checked for overlap one by one. The walk stops after `candidates` free subnets,
 * so a window of 65k subnets costs at most (taken + 100) steps.
 *
 * @throws {RangeError} for an inconsistent window (family, bounds, alignment)
 * @example
 * ```ts
 * const window = { network: parseCidr("10.244.0.0/16"), subnetLen: 24, subnetMin: parseIp("10.244.1.0"), subnetMax: parseIp("10.244.255.0") };
 * allocateSubnet(window, { taken: [parseCidr("10.244.1.0/24")], random: () => 0 }); // 10.244.2.0/24
 * ```
 */
export function allocateSubnet(window: SubnetWindow, options: AllocateSubnetOptions = {}): Cidr {
  const { min, max, step } = checkWindow(window);
  const family = window.network.family;
  const want = options.candidates ?? 100;
  if (!Number.isInteger(want) || want < 1) throw new RangeError(`options.candidates must be a positive integer, got ${want}`);
  const random = options.random ?? Math.random;

  // Keys are the subnet numbers as strings: V8 hashes a BigInt by its low 64 bits only, so a Set<bigint>
  // of IPv6 /64 prefixes (low bits all zero) degrades to a list.
  const shift = BigInt(bitsOf(family) - window.subnetLen);
  const keyOf = (n: bigint): string => (n >> shift).toString(36);
  const exact = new Set<string>();
  const other: Array<readonly [bigint, bigint]> = []; // [first, last] of taken subnets of other lengths
  for (const t of options.taken ?? []) {
    if (t.family !== family) continue;
    if (t.prefixLength === window.subnetLen) exact.add(keyOf(toBigInt(t)));
    else {
      const first = toBigInt(t) & ~hostMask(family, t.prefixLength);
      other.push([first, first | hostMask(family, t.prefixLength)]);
    }
  }
  const isFree = (n: bigint): boolean => {
    if (exact.has(keyOf(n))) return false;
    if (other.length === 0) return true;
    const last = n + step - 1n;
    return !other.some(([first, end]) => first <= last && n <= end);
  };

  const prev = options.previous;
  if (prev !== undefined && subnetFitsWindow(window, prev)) {
    const n = toBigInt(prev) & ~hostMask(family, prev.prefixLength);
    if (isFree(n)) return { family, address: formatBigInt(family, n), prefixLength: window.subnetLen };
  }

  const bag: bigint[] = [];
  for (let n = min; n <= max && bag.length < want; n += step) {
    if (isFree(n)) bag.push(n);
  }
  if (bag.length === 0) throw new OutOfSubnetsError(window);
  const r = random();
  const i = Math.min(bag.length - 1, Math.max(0, Math.floor(r * bag.length)));
  return { family, address: formatBigInt(family, bag[i]!), prefixLength: window.subnetLen };
}
