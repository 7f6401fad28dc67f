/**
 * Kubernetes access for Weft on `@kubernetes/client-node` 1.4: one `loadKubeConfig()` for kubeconfig files,
 * in-cluster service accounts and explicit API URLs; list/watch informers with a typed cache for Nodes,
 * Services and EndpointSlices (paginated lists, resume from resourceVersion, relist on 410 Gone, bookmarks,
 * periodic resync, backoff, AbortSignal); and a small client for the calls the agent makes (get node/pod, patch
 * node status).
 *
 * @example
 * ```ts
 * import { createNodeInformer, loadKubeConfig } from "@weft/kube";
 *
 * const kc = loadKubeConfig({ kubeconfigPath: "/etc/kubernetes/kubelet.conf" });
 * const nodes = createNodeInformer(kc, { resyncMs: 300_000 });
 * nodes.on({ add: (n) => console.log("node", n.metadata?.name), delete: (n) => console.log("gone", n.metadata?.name) });
 * const ac = new AbortController();
 * const running = nodes.run(ac.signal);
 * await nodes.waitForSync({ timeoutMs: 600_000 });
 * console.log(nodes.cache.list().length, "nodes");
 * ac.abort();
 * await running;
 * ```
 */
export * from "./types.ts";
export * from "./kube_config.ts";
export * from "./kube_client.ts";
export * from "./object_cache.ts";
export * from "./resources.ts";
export * from "./informer.ts";
