/** flannel's default annotation prefix (`--kube-annotation-prefix`). */
export const DEFAULT_KUBE_ANNOTATION_PREFIX = "flannel.alpha.coreos.com";

/** The full names of the node annotations the Kubernetes registry reads and writes (flannel's names). */
export interface KubeAnnotationNames {
  /** `<p>kube-subnet-manager`: `"true"` on nodes whose lease was published by a kube subnet manager. */
  readonly kubeSubnetManager: string;
  /** `<p>backend-data`: the backend's JSON (vxlan `{"VNI":1,"VtepMAC":"…"}`, host-gw `null`). */
  readonly backendData: string;
  /** `<p>backend-v6-data`. */
  readonly backendV6Data: string;
  /** `<p>backend-type`, e.g. `vxlan`. */
  readonly backendType: string;
  /** `<p>public-ip`: the published IPv4 underlay address. */
  readonly publicIp: string;
  /** `<p>public-ipv6`. */
  readonly publicIpv6: string;
  /** `<p>public-ip-overwrite` (input): published instead of the node's own address, e.g. behind NAT. */
  readonly publicIpOverwrite: string;
  /** `<p>public-ipv6-overwrite` (input). */
  readonly publicIpv6Overwrite: string;
  /** `<p>node-public-ip` (input): the address to use as `--public-ip`. */
  readonly nodePublicIp: string;
  /** `<p>node-public-ipv6` (input). */
  readonly nodePublicIpv6: string;
}

const PREFIX_FORMAT = /(?:[a-z0-9_-]+\.)+[a-z0-9_-]+\/(?:[a-z0-9_-]+-)?$/;

/**
 * The annotation names under `prefix`, with flannel's prefix rules (pkg/subnet/kube/annotations.go): a prefix
 * without `/` gets `/` appended (`org.com` → `org.com/backend-type`); one with text after the `/` gets `-`
 * appended (`org.com/9` → `org.com/9-backend-type`); then it must match `fqdn/[0-9a-z-_]*`.
 *
 * @throws {TypeError} with flannel's texts `subnet/kube: prefix can contain at most single slash` and
 *   `subnet/kube: prefix must be in a format: fqdn/[0-9a-z-_]*`
 */
export function kubeAnnotationNames(prefix: string = DEFAULT_KUBE_ANNOTATION_PREFIX): KubeAnnotationNames {
  const slashes = prefix.split("/").length - 1;
  if (slashes > 1) throw new TypeError("subnet/kube: prefix can contain at most single slash");
  let p = slashes === 0 ? `${prefix}/` : prefix;
  if (!p.endsWith("/") && !p.endsWith("-")) p += "-";
  if (!PREFIX_FORMAT.test(p)) throw new TypeError("subnet/kube: prefix must be in a format: fqdn/[0-9a-z-_]*");
  return {
    kubeSubnetManager: `${p}kube-subnet-manager`,
    backendData: `${p}backend-data`,
    backendV6Data: `${p}backend-v6-data`,
    backendType: `${p}backend-type`,
    publicIp: `${p}public-ip`,
    publicIpv6: `${p}public-ipv6`,
    publicIpOverwrite: `${p}public-ip-overwrite`,
    publicIpv6Overwrite: `${p}public-ipv6-overwrite`,
    nodePublicIp: `${p}node-public-ip`,
    nodePublicIpv6: `${p}node-public-ipv6`,
  };
}
