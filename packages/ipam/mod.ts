/**
 * IP address management for Weft: CIDR and address math for IPv4 and IPv6 on ipaddr.js (plain readonly
 * data + free functions), flannel's node-subnet allocation, and host-local-compatible pod-address
 * allocation over pluggable stores (memory, and host-local's on-disk format).
 *
 * @example
 * ```ts
 * import { allocateSubnet, DiskIpamStore, formatCidr, parseCidr, parseIp, PodIpAllocator } from "@weft/ipam";
 *
 * const window = { network: parseCidr("10.244.0.0/16"), subnetLen: 24, subnetMin: parseIp("10.244.1.0"), subnetMax: parseIp("10.244.255.0") };
 * const nodeSubnet = allocateSubnet(window, { taken: [parseCidr("10.244.1.0/24")] });
 *
 * const pods = new PodIpAllocator(new DiskIpamStore("/var/lib/cni/networks/cbr0"), { ranges: [{ subnet: nodeSubnet }] });
 * const { address, gateway } = await pods.allocate({ containerId: "abc", ifname: "eth0" });
 * console.log(formatCidr(nodeSubnet), address, gateway.address);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./parse_ip.ts";
export * from "./parse_cidr.ts";
export * from "./compare_ip.ts";
export * from "./next_ip.ts";
export * from "./cidr_contains.ts";
export * from "./cidr_overlaps.ts";
export * from "./subnet_at.ts";
export * from "./iterate_subnets.ts";
export * from "./cidr_hosts.ts";
export * from "./allocate_subnet.ts";
export * from "./ip_range.ts";
export * from "./pod_ip_allocator.ts";
export * from "./network_ipam.ts";
export * from "./memory_ipam_store.ts";
export * from "./disk_ipam_store.ts";
