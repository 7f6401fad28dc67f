/**
 * Clusters of network namespaces on one machine: an underlay switch namespace with a bridge, node namespaces
 * attached to it by veth (addresses in 198.18.0.0/15, the benchmarking range), an "outside" host on the underlay,
 * and a Redis server in its own namespace. Nothing is routed from the root namespace into the cluster, and
 * {@linkcode Cluster.destroy} removes everything, also after a failure or Ctrl-C.
 *
 * @example
 * ```ts
 * import { createCluster } from "@weft/testbed";
 * const cluster = await createCluster({ name: "demo", nodes: 3, redis: true });
 * try {
 *   console.log(await cluster.exec(cluster.nodes[0]!.netns, ["ip", "-br", "addr"]));
 * } finally {
 *   await cluster.destroy();
 * }
 * ```
 */
export * from "./cluster.ts";
export * from "./netns_exec.ts";
export * from "./pod.ts";
export * from "./weftd_process.ts";
export * from "./overlay_state.ts";
