/**
 * A kube-apiserver stand-in for Weft's tests (private; not part of the product). `@kubernetes/client-node`
 * talks to it unchanged through the kubeconfig it writes.
 *
 * @example
 * ```ts
 * import { FakeApiServer } from "@weft/fake-apiserver";
 * import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
 *
 * const fake = await FakeApiServer.start({ bookmarkIntervalMs: 200, historySize: 50 });
 * fake.create("nodes", { metadata: { name: "n1" }, spec: { podCIDR: "10.244.1.0/24" } });
 * const kc = new KubeConfig();
 * kc.loadFromFile(fake.kubeconfigPath);
 * const nodes = await kc.makeApiClient(CoreV1Api).listNode();
 * fake.compact(); // watches from older resourceVersions now get 410 Expired
 * await fake.close();
 * ```
 */
export * from "./fake_apiserver.ts";
