/**
 * flannel's masquerade and forward rules in Weft's own nftables tables (`weft-masq`,
 * `weft-forward`, families `ip` and `ip6`), through nftables-js: installed atomically,
 * re-checked periodically and re-applied when someone changes them, removed on uninstall.
 *
 * @example
 * ```ts
 * import { createNftables } from "nftables-js";
 * import { TrafficManager } from "@weft/traffic";
 *
 * const traffic = new TrafficManager((family, table) => createNftables({ family, table }), {
 *   network: "10.244.0.0/16",
 *   podSubnet: "10.244.1.0/24",
 * });
 * await traffic.install();
 * const stop = new AbortController();
 * void traffic.run(stop.signal); // re-ensures every 5 s
 * // on shutdown: stop.abort(); await traffic.uninstall();
 * ```
 *
 * @module
 */
export * from "./traffic_rules.ts";
export * from "./traffic_manager.ts";
