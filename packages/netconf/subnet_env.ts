/**
 * subnet.env text: flannel's exact writer format (pkg/subnet/subnet.go `WriteSubnetFile`) and a reader
 * as tolerant as flannel's own (main.go's godotenv-based `ReadCIDRsFromSubnetFile`, and the flannel CNI
 * plugin's `loadFlannelSubnetEnv`).
 *
 * @module
 */
import { compareCidr, formatCidr, gatewayOf, parseIpWithPrefix } from "@weft/ipam";
import type { Cidr, IpFamily } from "@weft/ipam";
import type { ParsedSubnetEnv, SubnetEnv } from "./types.ts";

function checkPair(
  network: Cidr | undefined,
  subnet: Cidr | undefined,
  names: readonly [string, string],
  family: IpFamily,
): boolean {
  if (network === undefined && subnet === undefined) return false;
  if (network === undefined || subnet === undefined) {
    throw new TypeError(`formatSubnetEnv: env.${names[0]} and env.${names[1]} must be given together`);
  }
  for (const [name, cidr] of [[names[0], network], [names[1], subnet]] as const) {
    if (cidr.family !== family) throw new TypeError(`formatSubnetEnv: env.${name} must be an IPv${family} CIDR, got ${formatCidr(cidr)}`);
  }
  return true;
}

/**
 * Formats subnet.env exactly as flannel's `WriteSubnetFile`:
 * ```
 * FLANNEL_NETWORK=10.5.0.0/16        (when network/subnet are given)
 * FLANNEL_SUBNET=10.5.72.1/24        (the first usable IP of the lease subnet)
 * FLANNEL_IPV6_NETWORK=fc00::/48     (when ipv6Network/ipv6Subnet are given)
 * FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64
 * FLANNEL_MTU=1450
 * FLANNEL_IPMASQ=true
 * ```
 * Every line ends in `\n`; nothing is quoted.
 *
 * @throws {TypeError} when only one of network/subnet (or ipv6Network/ipv6Subnet) is given, a CIDR has
 * the wrong family, or mtu is not a non-negative integer.
 * @throws {RangeError} when a subnet is a single address (/32, /128) and so has no first usable IP.
 * @example
 * ```ts
 * import { formatSubnetEnv } from "@weft/netconf";
 * import { parseCidr } from "@weft/ipam";
 * formatSubnetEnv({ network: parseCidr("10.1.0.0/16"), subnet: parseCidr("10.1.74.0/24"), mtu: 1472, ipMasq: false });
 * // "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n"
 * ```
 */
export function formatSubnetEnv(env: SubnetEnv): string {
  if (!Number.isSafeInteger(env.mtu) || env.mtu < 0) throw new TypeError(`formatSubnetEnv: env.mtu must be a non-negative integer, got ${env.mtu}`);
  if (typeof env.ipMasq !== "boolean") throw new TypeError(`formatSubnetEnv: env.ipMasq must be a boolean, got ${typeof env.ipMasq}`);
  let out = "";
  if (checkPair(env.network, env.subnet, ["network", "subnet"], 4)) {
    out += `FLANNEL_NETWORK=${formatCidr(env.network!)}\n`;
    out += `FLANNEL_SUBNET=${gatewayOf(env.subnet!).address}/${env.subnet!.prefixLength}\n`;
  }
  if (checkPair(env.ipv6Network, env.ipv6Subnet, ["ipv6Network", "ipv6Subnet"], 6)) {
    out += `FLANNEL_IPV6_NETWORK=${formatCidr(env.ipv6Network!)}\n`;
    out += `FLANNEL_IPV6_SUBNET=${gatewayOf(env.ipv6Subnet!).address}/${env.ipv6Subnet!.prefixLength}\n`;
  }
  out += `FLANNEL_MTU=${env.mtu}\n`;
  out += `FLANNEL_IPMASQ=${env.ipMasq}\n`;
  return out;
}

/** Options of {@linkcode parseSubnetEnv}. */
export interface ParseSubnetEnvOptions {
  /** Called for each skipped entry and each key that holds several CIDRs where one is expected. @default undefined (dropped) */
  onWarning?: (message: string) => void;
}

/**
 * Splits dotenv text into keys and values the way godotenv reads flannel's file: blank lines and `#`
 * comments are skipped, an optional `export ` prefix is dropped, the key ends at the first `=` (or `:`),
 * surrounding whitespace and one pair of matching quotes are removed.
 */
function readLines(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n|\r/)) {
    let line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("export ")) line = line.slice("export ".length).trimStart();
    const eq = line.search(/[=:]/);
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2]!;
    else value = value.replace(/\s+#.*$/, "");
    values.set(key, value);
  }
  return values;
}

/**
 * Parses subnet.env tolerantly, like flannel's readers: values may be comma lists, invalid entries are
 * skipped (with a warning), networks are de-duplicated, subnets are normalised to their network
 * address (`FLANNEL_SUBNET=10.5.72.1/24` reads as `10.5.72.0/24`, as Go's `net.ParseCIDR` gives it),
 * and the single-value fields (`network`, `subnet`, ...) are set only when exactly one valid entry is left.
 * Unknown keys are kept in `values`. Never throws for any text.
 *
 * @example
 * ```ts
 * import { parseSubnetEnv } from "@weft/netconf";
 * const env = parseSubnetEnv("FLANNEL_SUBNET=10.244.1.0/24,not-a-cidr,10.244.2.0/24\n");
 * env.subnets.length; // 2
 * env.subnet;         // undefined: two entries where one is expected
 * ```
 */
export function parseSubnetEnv(text: string, options: ParseSubnetEnvOptions = {}): ParsedSubnetEnv {
  const warn = (message: string): void => options.onWarning?.(message);
  const values = readLines(typeof text === "string" ? text : "");

  const list = (key: string, family: IpFamily, dedupe: boolean): Cidr[] => {
    const value = values.get(key);
    if (value === undefined || value === "") return [];
    const out: Cidr[] = [];
    for (const entry of value.split(",")) {
      const item = entry.trim();
      let cidr: Cidr | undefined;
      try {
        cidr = parseIpWithPrefix(item).cidr;
      } catch {
        cidr = undefined;
      }
      if (cidr === undefined || cidr.family !== family) {
        warn(`subnet.env: ${key}: skipping ${JSON.stringify(item)}: not an IPv${family} CIDR`);
        continue;
      }
      if (dedupe && out.some((c) => compareCidr(c, cidr!) === 0)) continue;
      out.push(cidr);
    }
    return out;
  };
  const single = (key: string, cidrs: readonly Cidr[]): Cidr | undefined => {
    if (cidrs.length > 1) warn(`subnet.env: ${key}: expected one CIDR, found ${cidrs.length}; ignoring the value`);
    return cidrs.length === 1 ? cidrs[0] : undefined;
  };

  const networks = list("FLANNEL_NETWORK", 4, true);
  const subnets = list("FLANNEL_SUBNET", 4, false);
  const ipv6Networks = list("FLANNEL_IPV6_NETWORK", 6, true);
  const ipv6Subnets = list("FLANNEL_IPV6_SUBNET", 6, false);

  let mtu: number | undefined;
  const mtuText = values.get("FLANNEL_MTU");
  if (mtuText !== undefined) {
    if (/^[0-9]{1,10}$/.test(mtuText) && Number(mtuText) <= 0xffff_ffff) mtu = Number(mtuText);
    else warn(`subnet.env: FLANNEL_MTU: skipping ${JSON.stringify(mtuText)}: not an unsigned integer`);
  }
  const masqText = values.get("FLANNEL_IPMASQ");

  return {
    network: single("FLANNEL_NETWORK", networks),
    subnet: single("FLANNEL_SUBNET", subnets),
    ipv6Network: single("FLANNEL_IPV6_NETWORK", ipv6Networks),
    ipv6Subnet: single("FLANNEL_IPV6_SUBNET", ipv6Subnets),
    networks,
    subnets,
    ipv6Networks,
    ipv6Subnets,
    mtu,
    ipMasq: masqText === undefined ? undefined : masqText === "true",
    values: Object.fromEntries(values),
  };
}
