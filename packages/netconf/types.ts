/**
 * Types shared by the net-conf.json parser and the subnet.env reader/writer.
 *
 * @module
 */
import type { Cidr, IpAddr } from "@weft/ipam";

/**
 * flannel's network configuration (net-conf.json, or the etcd `<prefix>/config` value),
 * with camelCase field names.
 *
 * Unset values: addresses and networks are `undefined`, lengths are `0` (as in flannel,
 * where `0` means "not set"). After {@linkcode parseNetConf} with the default `check: true`,
 * every field of each enabled family is set.
 */
export interface NetConf {
  /** `Network`: the IPv4 pod network, normalised to its network address. */
  readonly network: Cidr | undefined;
  /** `SubnetLen`: prefix length of each node's IPv4 subnet (`0` = not set). */
  readonly subnetLen: number;
  /** `SubnetMin`: the lowest IPv4 node subnet that may be leased. */
  readonly subnetMin: IpAddr | undefined;
  /** `SubnetMax`: the highest IPv4 node subnet that may be leased. */
  readonly subnetMax: IpAddr | undefined;
  /** `EnableIPv4` (flannel's default: `true`). */
  readonly enableIPv4: boolean;
  /** `EnableIPv6` (default `false`). */
  readonly enableIPv6: boolean;
  /** `IPv6Network`: the IPv6 pod network, normalised to its network address. */
  readonly ipv6Network: Cidr | undefined;
  /** `IPv6SubnetLen` (`0` = not set). */
  readonly ipv6SubnetLen: number;
  /** `IPv6SubnetMin`. */
  readonly ipv6SubnetMin: IpAddr | undefined;
  /** `IPv6SubnetMax`. */
  readonly ipv6SubnetMax: IpAddr | undefined;
  /** `EnableNFTables` (default `false`): use nftables instead of iptables for masquerade/forward rules. */
  readonly enableNFTables: boolean;
  /**
   * `Backend.Type`, lower-cased. `"udp"` when `Backend` is absent (flannel's code; its docs say vxlan),
   * `""` when `Backend` has no `Type` (flannel then fails with `unknown backend type: `).
   */
  readonly backendType: string;
  /** The `Backend` object as written (its keys unchanged), or `undefined` when absent or `null`. */
  readonly backend: Readonly<Record<string, unknown>> | undefined;
}

/** The values that flannel writes to subnet.env (input of {@linkcode formatSubnetEnv}). */
export interface SubnetEnv {
  /** `FLANNEL_NETWORK`: the IPv4 pod network. Give it together with `subnet`, or leave both out for IPv6-only. */
  readonly network?: Cidr | undefined;
  /** The node's IPv4 lease subnet; written as `FLANNEL_SUBNET=<first usable IP>/<len>`. */
  readonly subnet?: Cidr | undefined;
  /** `FLANNEL_IPV6_NETWORK`. Give it together with `ipv6Subnet`. */
  readonly ipv6Network?: Cidr | undefined;
  /** The node's IPv6 lease subnet; written as `FLANNEL_IPV6_SUBNET=<first usable IP>/<len>`. */
  readonly ipv6Subnet?: Cidr | undefined;
  /** `FLANNEL_MTU`: the backend's MTU. */
  readonly mtu: number;
  /** `FLANNEL_IPMASQ`: whether flannel masquerades (the value of `--ip-masq`). */
  readonly ipMasq: boolean;
}

/**
 * What {@linkcode parseSubnetEnv} read. Like flannel's readers it is tolerant: values may be comma lists,
 * invalid entries are skipped, and a single-value field is set only when exactly one valid entry remains.
 * Subnets are normalised to their network address (`10.5.72.1/24` reads as `10.5.72.0/24`), as Go's
 * `net.ParseCIDR` does.
 */
export interface ParsedSubnetEnv {
  /** `FLANNEL_NETWORK` when it holds exactly one valid IPv4 CIDR. */
  readonly network: Cidr | undefined;
  /** `FLANNEL_SUBNET` (normalised) when it holds exactly one valid IPv4 CIDR. */
  readonly subnet: Cidr | undefined;
  /** `FLANNEL_IPV6_NETWORK` when it holds exactly one valid IPv6 CIDR. */
  readonly ipv6Network: Cidr | undefined;
  /** `FLANNEL_IPV6_SUBNET` (normalised) when it holds exactly one valid IPv6 CIDR. */
  readonly ipv6Subnet: Cidr | undefined;
  /** Every valid, de-duplicated entry of `FLANNEL_NETWORK`, in file order. */
  readonly networks: readonly Cidr[];
  /** Every valid entry of `FLANNEL_SUBNET` (normalised), in file order. */
  readonly subnets: readonly Cidr[];
  /** Every valid, de-duplicated entry of `FLANNEL_IPV6_NETWORK`. */
  readonly ipv6Networks: readonly Cidr[];
  /** Every valid entry of `FLANNEL_IPV6_SUBNET` (normalised). */
  readonly ipv6Subnets: readonly Cidr[];
  /** `FLANNEL_MTU` when it is a valid unsigned integer. */
  readonly mtu: number | undefined;
  /** `FLANNEL_IPMASQ === "true"`, or `undefined` when the key is absent. */
  readonly ipMasq: boolean | undefined;
  /** Every `KEY=VALUE` line as read (the last one wins), including keys this reader does not know. */
  readonly values: Readonly<Record<string, string>>;
}
