/**
 * flannel's vxlan backend for Weft: device `flannel.<VNI>` (VNI 1, UDP 8472 by default), address
 * `<subnet>.0/32`, MTU - 50, and per peer a permanent neighbour, an FDB entry and an onlink route.
 * Lease backend data is flannel's `{"VNI":1,"VtepMAC":"…"}`, so flanneld and weftd nodes interoperate.
 *
 * @example
 * ```ts
 * import { BackendRegistry, type ExternalInterface } from "@weft/backend";
 * import { createVxlanBackend } from "@weft/backend-vxlan";
 * import { parseIp } from "@weft/ipam";
 * import { createIpRoute } from "@weft/iproute";
 * import { parseNetConf } from "@weft/netconf";
 * import type { Lease, LeaseStore } from "@weft/subnet";
 * declare const store: LeaseStore;
 * declare const previousLease: Lease | undefined;
 *
 * const netConf = parseNetConf('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}');
 * const externalInterface: ExternalInterface = { name: "eth0", index: 2, mtu: 1500, address: parseIp("192.168.1.11") };
 * const backend = new BackendRegistry({ vxlan: createVxlanBackend }).create("vxlan", { iproute: createIpRoute(), externalInterface });
 * const net = await backend.registerNetwork(netConf, {
 *   acquireLease: (attrs) => store.acquire(netConf, attrs),
 *   previousBackendData: previousLease?.backendData, // keeps the VtepMAC across restarts
 * });
 * const stop = new AbortController();
 * void net.run(stop.signal); // recreates flannel.1 when deleted, re-checks every 10 s
 * for await (const ev of store.watch({ signal: stop.signal, ownLease: net.lease })) await net.handleLeaseEvent(ev);
 * ```
 *
 * @module
 */
export * from "./vxlan_config.ts";
export * from "./vxlan_backend_data.ts";
export * from "./device.ts";
export * from "./vxlan.ts";
export * from "./vxlan_network.ts";
