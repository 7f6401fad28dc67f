/**
 * flannel's host-gw backend for Weft: a route to each peer's subnet via the peer's public IP on
 * the external interface. Peers must share this node's L2 network; behind NAT the backend refuses
 * to start with flannel's message.
 *
 * @example
 * ```ts
 * import { BackendRegistry } from "@weft/backend";
 * import { createHostGwBackend } from "@weft/backend-host-gw";
 *
 * const registry = new BackendRegistry({ "host-gw": createHostGwBackend });
 * const backend = registry.create("host-gw", { iproute, externalInterface });
 * const net = await backend.registerNetwork(netConf, { acquireLease: (attrs) => store.acquire(netConf, attrs) });
 * await net.handleLeaseEvent({ type: "snapshot", leases: await store.list() });
 * ```
 *
 * @module
 */
export * from "./host_gw.ts";
export * from "./host_gw_network.ts";
