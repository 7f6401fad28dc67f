/** Options for {@linkcode renderConflist}. */
export interface RenderConflistOptions {
  /** The network name (host-local's state lives in `<dataDir>/<name>`); @default "cbr0" (kube-flannel's) */
  name?: string;
  /** The conflist's cniVersion; @default "1.0.0" (the newest the Debian/upstream portmap 1.1.x accepts) */
  cniVersion?: string;
  /** Extra keys for the weft plugin entry (bridge, subnetFile, dataDir, weftSocketPath, ...); @default {} */
  weft?: Record<string, unknown>;
  /** Chain portmap after weft; @default true */
  portmap?: boolean;
}

/**
 * The network config list a node needs in /etc/cni/net.d: `weft` (hairpin on and a default route,
 * as kube-flannel's delegate sets them), then `portmap` for hostPorts.
 */
export function renderConflist(options: RenderConflistOptions = {}): string {
  const plugins: Array<Record<string, unknown>> = [{ type: "weft", hairpinMode: true, isDefaultGateway: true, ...(options.weft ?? {}) }];
  if (options.portmap ?? true) plugins.push({ type: "portmap", capabilities: { portMappings: true } });
  return JSON.stringify({ name: options.name ?? "cbr0", cniVersion: options.cniVersion ?? "1.0.0", plugins }, null, 2) + "\n";
}
