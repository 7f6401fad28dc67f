import type { NetConf } from "@weft/netconf";
import type { Lease } from "./types.ts";
import { compareAddr } from "./_ip.ts";

/**
 * Whether an existing lease may be kept under `config` (flannel's `isSubnetConfigCompat` and its v6 twin):
 * with IPv4 enabled the lease's subnet must lie between SubnetMin and SubnetMax and have SubnetLen as prefix;
 * with IPv6 enabled the same for the IPv6 fields; a family that is disabled must be absent from the lease.
 */
export function leaseFitsConfig(lease: Pick<Lease, "subnet" | "ipv6Subnet">, config: NetConf): boolean {
  if (config.enableIPv4) {
    const s = lease.subnet;
    const min = config.subnetMin;
    const max = config.subnetMax;
    if (!s || s.family !== 4 || s.prefixLength !== config.subnetLen || !min || !max) return false;
    if (compareAddr(s, min) < 0 || compareAddr(s, max) > 0) return false;
  } else if (lease.subnet) return false;
  if (config.enableIPv6) {
    const s = lease.ipv6Subnet;
    const min = config.ipv6SubnetMin;
    const max = config.ipv6SubnetMax;
    if (!s || s.family !== 6 || s.prefixLength !== config.ipv6SubnetLen || !min || !max) return false;
    if (compareAddr(s, min) < 0 || compareAddr(s, max) > 0) return false;
  } else if (lease.ipv6Subnet) return false;
  return true;
}
