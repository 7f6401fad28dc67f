/**
 * flannel-compatible network configuration: parse net-conf.json with flannel's defaults, validation
 * and exact error texts, and read/write the subnet.env file that flannel's CNI plugin consumes.
 *
 * @example
 * ```ts
 * import { formatSubnetEnv, parseNetConf } from "@weft/netconf";
 * import { parseCidr } from "@weft/ipam";
 *
 * const conf = parseNetConf('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}');
 * // conf.subnetLen === 24, conf.backendType === "vxlan"
 * const text = formatSubnetEnv({ network: conf.network, subnet: parseCidr("10.244.7.0/24"), mtu: 1450, ipMasq: true });
 * // FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./net_conf_error.ts";
export * from "./parse_net_conf.ts";
export * from "./check_net_conf.ts";
export * from "./subnet_env.ts";
export * from "./subnet_env_file.ts";
