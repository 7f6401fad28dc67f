/**
 * flannel's host-gw backend for Weft: a route to each peer's subnet via the peer's public IP on
 * the external interface. Peers must share this node's L2 network; behind NAT the backend refuses
 * to start with flannel's message.
 *
 * @example
 * ```ts
 * import { BackendRegistry, lookupExternalInterface } from "@weft/backend";
 * import { createHostGwBackend } from "@weft/backend-host-gw";
 * import { createIpRoute } from "@weft/iproute";
 * import { parseNetConf } from "@weft/netconf";
 * import type { LeaseStore } from "@weft/subnet";
 * declare const store: LeaseStore;
 *
 * const netConf = parseNetConf('{"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}');
 * const iproute = createIpRoute();
 * const externalInterface = await lookupExternalInterface(iproute);
 * const backend = new BackendRegistry({ "host-gw": createHostGwBackend }).create("host-gw", { iproute, externalInterface });
 * const net = await backend.registerNetwork(netConf, { acquireLease: (attrs) => store.acquire(netConf, attrs) });
 * const stop = new AbortController();
 * void net.run(stop.signal); // restores deleted routes every 10 s
 * for await (const ev of store.watch({ signal: stop.signal, ownLease: net.lease })) await net.handleLeaseEvent(ev);
 * console.log(net.peerErrors()); // peers off this L2 network, with why
 * ```
 *
 * @module
 */
export * from "./host_gw.ts";
export * from "./host_gw_network.ts";
