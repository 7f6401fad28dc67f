/**
 * flannel's `CheckNetworkConfig` (pkg/subnet/config.go): defaults and validation of the node-subnet range.
 *
 * @module
 */
import { cidrContains, cidrOf, cidrSize, nextIp, subnetAt } from "@weft/ipam";
import type { Cidr, IpAddr } from "@weft/ipam";
import { NetConfError } from "./net_conf_error.ts";
import type { NetConf } from "./types.ts";

interface FamilyRules {
  readonly bits: 32 | 128;
  /** Largest SubnetLen accepted (30 or 126). */
  readonly maxSubnetLen: number;
  /** Largest network prefix for which a SubnetLen is derived (28 or 124). */
  readonly maxNetworkPrefix: number;
  /** Networks with this prefix or shorter get `defaultSubnetLen` (22 → /24, 62 → /64). */
  readonly bigNetworkPrefix: number;
  readonly defaultSubnetLen: number;
  readonly fields: {
    readonly network: "network" | "ipv6Network";
    readonly subnetLen: "subnetLen" | "ipv6SubnetLen";
    readonly subnetMin: "subnetMin" | "ipv6SubnetMin";
    readonly subnetMax: "subnetMax" | "ipv6SubnetMax";
  };
  readonly messages: {
    readonly noNetwork: string;
    readonly subnetLenTooBig: string;
    readonly networkTooSmall: string;
    readonly minOutside: string;
    readonly maxOutside: string;
    readonly minUnaligned: string;
    readonly maxUnaligned: string;
  };
}

// flannel's exact texts (reference/flannel.md 1.2), including the quirk that the IPv6 SubnetLen
// checks say "SubnetLen".
const V4: FamilyRules = {
  bits: 32,
  maxSubnetLen: 30,
  maxNetworkPrefix: 28,
  bigNetworkPrefix: 22,
  defaultSubnetLen: 24,
  fields: { network: "network", subnetLen: "subnetLen", subnetMin: "subnetMin", subnetMax: "subnetMax" },
  messages: {
    noNetwork: "please define a correct Network parameter in the flannel config",
    subnetLenTooBig: "SubnetLen must be less than /31",
    networkTooSmall: "network is too small. Minimum useful network prefix is /28",
    minOutside: "SubnetMin is not in the range of the Network",
    maxOutside: "SubnetMax is not in the range of the Network",
    minUnaligned: "SubnetMin is not on a SubnetLen boundary: ",
    maxUnaligned: "SubnetMax is not on a SubnetLen boundary: ",
  },
};

const V6: FamilyRules = {
  bits: 128,
  maxSubnetLen: 126,
  maxNetworkPrefix: 124,
  bigNetworkPrefix: 62,
  defaultSubnetLen: 64,
  fields: { network: "ipv6Network", subnetLen: "ipv6SubnetLen", subnetMin: "ipv6SubnetMin", subnetMax: "ipv6SubnetMax" },
  messages: {
    noNetwork: "please define a correct IPv6Network parameter in the flannel config",
    subnetLenTooBig: "SubnetLen must be less than /127",
    networkTooSmall: "IPv6Network is too small. Minimum useful network prefix is /124",
    minOutside: "IPv6SubnetMin is not in the range of the IPv6Network",
    maxOutside: "IPv6SubnetMax is not in the range of the IPv6Network",
    minUnaligned: "IPv6SubnetMin is not on a SubnetLen boundary: ",
    maxUnaligned: "IPv6SubnetMax is not on a SubnetLen boundary: ",
  },
};

const FOUR_SUBNETS = "network must be able to accommodate at least four subnets";

/** flannel's `IP == 0`: an unset address, or the all-zero address (which flannel cannot tell apart). */
function isZero(ip: IpAddr | undefined): boolean {
  return ip === undefined || ip.address === "0.0.0.0" || ip.address === "::";
}

interface FamilyResult {
  network: Cidr;
  subnetLen: number;
  subnetMin: IpAddr;
  subnetMax: IpAddr;
}

function checkFamily(rules: FamilyRules, conf: NetConf): FamilyResult {
  const { fields, messages } = rules;
  const network = conf[fields.network];
  // flannel's Network.Empty(): a missing Network and 0.0.0.0/0 (::/0) look the same.
  if (network === undefined || (network.prefixLength === 0 && isZero(network))) {
    throw new NetConfError(messages.noNetwork, fields.network);
  }
  let subnetLen = conf[fields.subnetLen];
  if (subnetLen > 0) {
    if (subnetLen > rules.maxSubnetLen) throw new NetConfError(messages.subnetLenTooBig, fields.subnetLen);
    if (subnetLen < network.prefixLength + 2) throw new NetConfError(FOUR_SUBNETS, fields.subnetLen);
  } else if (network.prefixLength > rules.maxNetworkPrefix) {
    throw new NetConfError(messages.networkTooSmall, fields.network);
  } else if (network.prefixLength <= rules.bigNetworkPrefix) {
    subnetLen = rules.defaultSubnetLen;
  } else {
    subnetLen = network.prefixLength + 2;
  }

  let subnetMin = conf[fields.subnetMin];
  if (isZero(subnetMin)) {
    // The first subnet is skipped: its .0 would clash with the network address.
    subnetMin = nextIp(network, { by: cidrSize({ family: network.family, address: network.address, prefixLength: subnetLen }) });
  } else if (!cidrContains(network, subnetMin!)) {
    throw new NetConfError(messages.minOutside, fields.subnetMin);
  }
  let subnetMax = conf[fields.subnetMax];
  if (isZero(subnetMax)) {
    const last = subnetAt(network, { prefixLength: subnetLen, index: -1 });
    subnetMax = { family: last.family, address: last.address };
  } else if (!cidrContains(network, subnetMax!)) {
    throw new NetConfError(messages.maxOutside, fields.subnetMax);
  }
  if (cidrOf(subnetMin!, subnetLen).address !== subnetMin!.address) {
    throw new NetConfError(messages.minUnaligned + subnetMin!.address, fields.subnetMin);
  }
  if (cidrOf(subnetMax!, subnetLen).address !== subnetMax!.address) {
    throw new NetConfError(messages.maxUnaligned + subnetMax!.address, fields.subnetMax);
  }
  return { network, subnetLen, subnetMin: subnetMin!, subnetMax: subnetMax! };
}

/**
 * Applies flannel's `CheckNetworkConfig` to a parsed configuration and returns a completed copy
 * (the input is not changed). For each enabled family:
 * - `Network` must be set (and not `0.0.0.0/0`);
 * - an explicit SubnetLen must be at most /30 (/126) and leave room for four subnets; otherwise it
 *   defaults to /24 (/64) for networks of /22 (/62) or larger, or to the network prefix + 2, and
 *   networks smaller than /28 (/124) are rejected;
 * - SubnetMin defaults to the second subnet (flannel never leases the first) and SubnetMax to the
 *   last; given values must lie in the network and on a SubnetLen boundary.
 *
 * {@linkcode parseNetConf} calls this unless `check: false`.
 *
 * @throws {NetConfError} with flannel's exact message and the offending field.
 * @example
 * ```ts
 * import { checkNetConf, parseNetConf } from "@weft/netconf";
 * const raw = parseNetConf('{"Network": "10.5.0.0/24"}', { check: false }); // raw.subnetLen === 0
 * checkNetConf(raw).subnetLen; // 26
 * ```
 */
export function checkNetConf(conf: NetConf): NetConf {
  let out: NetConf = { ...conf };
  if (conf.enableIPv4) {
    const r = checkFamily(V4, conf);
    out = { ...out, network: r.network, subnetLen: r.subnetLen, subnetMin: r.subnetMin, subnetMax: r.subnetMax };
  }
  if (conf.enableIPv6) {
    const r = checkFamily(V6, conf);
    out = { ...out, ipv6Network: r.network, ipv6SubnetLen: r.subnetLen, ipv6SubnetMin: r.subnetMin, ipv6SubnetMax: r.subnetMax };
  }
  return out;
}
