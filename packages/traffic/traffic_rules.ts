/**
 * flannel's masquerade and forward rules, rendered as data for Weft's own nftables tables.
 *
 * Design notes (differences from flannel, all deliberate):
 * - flannel's iptables mode returns early for `! -s <net> -d <pod>` (outside → local pods keep their
 *   source). flannel's experimental nftables port wrote that rule as `ip saddr != <pod> ip daddr <net>
 *   return`, which also swallows host → remote-pod traffic and leaves its last rule
 *   (`ip saddr != <net> ip daddr <net> masquerade`) unreachable. Weft keeps the iptables semantics,
 *   which is what flannel documents and what its e2e golden iptables output shows.
 * - The proxy mark is matched under a mask (`meta mark & 0x4000 == 0x4000`) as iptables'
 *   `--mark 0x4000/0x4000` does; flannel's nftables port compares the whole mark (`meta mark
 *   0x00004000`) and so masquerades twice when another component sets other mark bits.
 * - Rules live in Weft's own tables (`weft-masq`, `weft-forward`), one per family, and every
 *   install flushes and re-adds its chains in one transaction, so rules built from an old Network
 *   or lease subnet never linger (flannel has to delete them from the old subnet.env values).
 */

/** A CIDR in text form, e.g. `10.244.0.0/16`. */
export type CidrText = string;

/** One base chain with its rules, in nft syntax. */
export interface ChainSpec {
  readonly name: string;
  readonly type: "nat" | "filter";
  readonly hook: "postrouting" | "forward";
  /** nft priority keyword or number, e.g. `srcnat`, `filter`. */
  readonly priority: string;
  readonly comment: string;
  readonly rules: readonly string[];
}

/** One table of ours with its chains. */
export interface TableSpec {
  readonly family: "ip" | "ip6";
  readonly name: string;
  readonly comment: string;
  readonly chains: readonly ChainSpec[];
}

/** Options for {@linkcode masqueradeTable}. */
export interface MasqueradeTableOptions {
  /** Table name; @default "weft-masq" */
  tableName?: string;
  /** Append `fully-random` to masquerade (flannel's default unless the kernel lacks it); @default true */
  fullyRandom?: boolean;
  /** The proxy's masquerade mark (kube-proxy 0x4000); @default 0x4000 */
  masqueradeMark?: number;
}

/** Options for {@linkcode forwardTable}. */
export interface ForwardTableOptions {
  /** Table name; @default "weft-forward" */
  tableName?: string;
}

/** The default table names. */
export const MASQ_TABLE = "weft-masq";
export const FORWARD_TABLE = "weft-forward";

/** The multicast range never masqueraded, per family (flannel: 224.0.0.0/4, ff00::/8). */
export const MULTICAST: Readonly<Record<4 | 6, CidrText>> = { 4: "224.0.0.0/4", 6: "ff00::/8" };

/**
 * The masquerade table for one family: `network` is the cluster Network (e.g. 10.244.0.0/16),
 * `podSubnet` this node's lease subnet (e.g. 10.244.1.0/24).
 *
 * Rule order and meaning (flannel section 5.1):
 * 1. proxy-marked traffic returns (the proxy masquerades it; no double NAT)
 * 2. local pods → cluster keep their address
 * 3. cluster → local pods keep their address
 * 4. outside → local pods keep their address
 * 5. cluster → non-multicast outside is masqueraded
 * 6. host/outside → cluster (remote pods) is masqueraded
 */
export function masqueradeTable(network: CidrText, podSubnet: CidrText, options: MasqueradeTableOptions = {}): TableSpec {
  const family = familyOf(network);
  if (familyOf(podSubnet) !== family) throw new TypeError(`podSubnet: ${podSubnet} is not of the family of network ${network}`);
  const ip = family === 4 ? "ip" : "ip6";
  const mark = `0x${(options.masqueradeMark ?? 0x4000).toString(16).padStart(8, "0")}`;
  const masq = options.fullyRandom === false ? "masquerade" : "masquerade fully-random";
  return {
    family: ip,
    name: options.tableName ?? MASQ_TABLE,
    comment: "weft pod masquerading",
    chains: [
      {
        name: "postrouting",
        type: "nat",
        hook: "postrouting",
        priority: "srcnat",
        comment: "masquerade pod traffic leaving the cluster network",
        rules: [
          `meta mark & ${mark} == ${mark} return`,
          `${ip} saddr ${podSubnet} ${ip} daddr ${network} return`,
          `${ip} saddr ${network} ${ip} daddr ${podSubnet} return`,
          `${ip} saddr != ${network} ${ip} daddr ${podSubnet} return`,
          `${ip} saddr ${network} ${ip} daddr != ${MULTICAST[family]} ${masq}`,
          `${ip} saddr != ${network} ${ip} daddr ${network} ${masq}`,
        ],
      },
    ],
  };
}

/** The forward-accept table for one family (flannel's FLANNEL-FWD: accept from and to the Network). */
export function forwardTable(network: CidrText, options: ForwardTableOptions = {}): TableSpec {
  const family = familyOf(network);
  const ip = family === 4 ? "ip" : "ip6";
  return {
    family: ip,
    name: options.tableName ?? FORWARD_TABLE,
    comment: "weft forwarding of cluster traffic",
    chains: [
      {
        name: "forward",
        type: "filter",
        hook: "forward",
        priority: "filter",
        comment: "accept forwarded cluster traffic",
        rules: [`${ip} saddr ${network} accept`, `${ip} daddr ${network} accept`],
      },
    ],
  };
}

/** `nft -f` text for a table (for logs, goldens, and `nft -f` fallbacks). */
export function formatTable(table: TableSpec): string {
  const lines = [`table ${table.family} ${table.name} {`, `\tcomment "${table.comment}"`];
  for (const chain of table.chains) {
    lines.push(`\tchain ${chain.name} {`);
    lines.push(`\t\tcomment "${chain.comment}"`);
    lines.push(`\t\ttype ${chain.type} hook ${chain.hook} priority ${chain.priority}; policy accept;`);
    for (const rule of chain.rules) lines.push(`\t\t${rule}`);
    lines.push("\t}");
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function familyOf(cidr: CidrText): 4 | 6 {
  const slash = cidr.indexOf("/");
  if (slash < 0) throw new SyntaxError(`not a CIDR: ${JSON.stringify(cidr)}`);
  return cidr.slice(0, slash).includes(":") ? 6 : 4;
}
