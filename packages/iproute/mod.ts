/**
 * A typed iproute2 for Node: links (veth, bridge, vxlan, tun), addresses, routes, neighbours and
 * bridge FDB entries, read back as typed objects from `ip -json` / `bridge -json`, applied one at a
 * time or many at once through `ip -batch -` / `bridge -batch -`, in any network namespace (by name
 * or by path such as `/proc/<pid>/ns/net`). Commands run as argv arrays, never through a shell, and
 * every name and address is validated first. `createIpSession()` applies batches over long-lived
 * `ip -batch -` and `bridge -batch -` processes (no process start per batch). A semantic fake is exported
 * from `@weft/iproute/testing`.
 *
 * @example
 * ```ts
 * import { createIpRoute, isUnreachable } from "@weft/iproute";
 *
 * const ip = createIpRoute({ netns: "node1" });
 * await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, local: "198.18.0.1", dstport: 8472, learning: false, up: true });
 * await ip.apply(
 *   ip.batch()
 *     .replaceNeigh({ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" })
 *     .replaceFdb({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" })
 *     .replaceRoute({ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true }),
 * );
 * console.log(await ip.route.list({ dev: "flannel.1" }));
 * try {
 *   await ip.route.add({ dst: "10.9.0.0/16", via: "192.0.2.1" });
 * } catch (err) {
 *   if (!isUnreachable(err)) throw err;
 * }
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./ip_route_error.ts";
export * from "./batch.ts";
export * from "./ip_route.ts";
export * from "./exec.ts";
export * from "./reconcile.ts";
export * from "./ip_session.ts";
