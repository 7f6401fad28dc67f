/**
 * Weft's data-plane backend contract and shared pieces: the {@linkcode Backend} / {@linkcode Network}
 * interfaces (flannel's `backend.Backend` / `backend.Network`), an explicit
 * {@linkcode BackendRegistry} keyed by `Backend.Type`, and a reconcile helper that converges routes,
 * permanent neighbours and FDB entries on a desired set as one batch, used by
 * {@linkcode RouteNetwork}, the base of the host-gw and vxlan networks.
 *
 * @example
 * ```ts
 * import { BackendRegistry, lookupExternalInterface } from "@weft/backend";
 * import { createVxlanBackend } from "@weft/backend-vxlan";
 * import { createHostGwBackend } from "@weft/backend-host-gw";
 * import { createIpRoute } from "@weft/iproute";
 * import { parseNetConf } from "@weft/netconf";
 * import type { LeaseStore } from "@weft/subnet";
 * declare const store: LeaseStore; // e.g. new LeaseManager(registry)
 *
 * const netConf = parseNetConf('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}');
 * const iproute = createIpRoute();
 * const externalInterface = await lookupExternalInterface(iproute);
 * const registry = new BackendRegistry({ vxlan: createVxlanBackend, "host-gw": createHostGwBackend });
 * const backend = registry.create(netConf.backendType, { iproute, externalInterface });
 * const net = await backend.registerNetwork(netConf, { acquireLease: (attrs) => store.acquire(netConf, attrs) });
 * // write subnet.env from net.lease and net.mtu, then:
 * const stop = new AbortController();
 * void net.run(stop.signal);
 * for await (const event of store.watch({ signal: stop.signal, ownLease: net.lease })) await net.handleLeaseEvent(event);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./logger.ts";
export * from "./backend_registry.ts";
export * from "./kernel_entries.ts";
export * from "./peer_error.ts";
export * from "./direct_route.ts";
export * from "./external_interface.ts";
export * from "./reconcile_entries.ts";
export * from "./route_network.ts";
