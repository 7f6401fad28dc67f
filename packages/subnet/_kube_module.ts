// @weft/kube (and with it @kubernetes/client-node, ~0.5-2 s to import) is loaded on first use, so that users
// of the memory and Redis registries never pay for it (private).
type KubeModule = typeof import("@weft/kube");

let loading: Promise<KubeModule> | undefined;

export function kubeModule(): Promise<KubeModule> {
  loading ??= import("@weft/kube");
  return loading;
}
