/**
 * @weft/cni: the CNI specification (0.3.0 to 1.1.0: ADD, DEL, CHECK, VERSION, STATUS, GC), pod
 * network setup with the semantics flannel gives its pods (bridge + host-local), and the unix-socket
 * server that the `weft-cni` forwarder in /opt/cni/bin talks to.
 *
 * @example
 * ```ts
 * import { createCniServer, createPodNetwork } from "@weft/cni";
 * const server = createCniServer({ socketPath: "/run/weft/cni.sock", plugin: createPodNetwork() });
 * await server.start();
 * // ... kubelet's runtime now runs /opt/cni/bin/weft-cni for every pod
 * await server.stop();
 * ```
 */
export * from "./cni_args.ts";
export * from "./cni_client.ts";
export * from "./cni_env.ts";
export * from "./cni_error.ts";
export * from "./cni_result.ts";
export * from "./cni_server.ts";
export * from "./cni_version.ts";
export * from "./conflist.ts";
export * from "./constants.ts";
export * from "./dispatch.ts";
export * from "./frame.ts";
export * from "./install.ts";
export * from "./pod_network.ts";
export * from "./types.ts";
export * from "./weft_net_conf.ts";
