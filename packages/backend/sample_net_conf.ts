import { parseCidr } from "@weft/ipam";
import type { NetConf } from "@weft/netconf";

/**
 * A checked IPv4-only {@linkcode NetConf} for backend tests and benchmarks: Network 10.244.0.0/16,
 * SubnetLen 24, no SubnetMin/Max, nftables off, `Backend: { Type: backendType }`; `overrides`
 * replace whole fields (e.g. `{ network: parseCidr("10.0.0.0/8") }` or the IPv6 fields).
 */
export function sampleNetConf(backendType: string, overrides: Partial<NetConf> = {}): NetConf {
  return {
    network: parseCidr("10.244.0.0/16"),
    subnetLen: 24,
    subnetMin: undefined,
    subnetMax: undefined,
    enableIPv4: true,
    enableIPv6: false,
    ipv6Network: undefined,
    ipv6SubnetLen: 0,
    ipv6SubnetMin: undefined,
    ipv6SubnetMax: undefined,
    enableNFTables: false,
    backendType,
    backend: { Type: backendType },
    ...overrides,
  };
}
