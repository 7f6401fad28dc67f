import type { KubeConfig } from "@weft/kube";
import { kubeModule } from "./_kube_module.ts";

/** Options for {@linkcode resolveNodeName}. */
export interface ResolveNodeNameOptions {
  /** Environment with `NODE_NAME`, or `POD_NAME` + `POD_NAMESPACE`. @default process.env */
  env?: Record<string, string | undefined>;
  /** @default undefined */
  signal?: AbortSignal;
}

/**
 * This node's name, as flanneld finds it: env `NODE_NAME`; otherwise the pod named by `POD_NAME` in
 * `POD_NAMESPACE` is read and its `spec.nodeName` used.
 * @throws {Error} with flannel's texts `env variables POD_NAME and POD_NAMESPACE must be set` and
 *   `node name not present in pod spec '<ns>/<name>'`; API errors (KubeApiError) pass through
 */
export async function resolveNodeName(kubeConfig: KubeConfig, options: ResolveNodeNameOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (env.NODE_NAME) return env.NODE_NAME;
  const podName = env.POD_NAME;
  const podNamespace = env.POD_NAMESPACE;
  if (!podName || !podNamespace) throw new Error("env variables POD_NAME and POD_NAMESPACE must be set");
  const { KubeClient } = await kubeModule();
  const pod = await new KubeClient(kubeConfig).getPod(podNamespace, podName, options.signal ? { signal: options.signal } : {});
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw new Error(`node name not present in pod spec '${podNamespace}/${podName}'`);
  return nodeName;
}
