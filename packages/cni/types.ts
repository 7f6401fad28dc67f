// Types of the CNI specification (SPEC.md 1.0.0 / 1.1.0, with the 0.3.x/0.4.0 result extras),
// shared by every file of this package.

/** The operations of the CNI spec (STATUS and GC are new in 1.1.0). */
export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION" | "STATUS" | "GC";

/** The process environment as the runtime passes it (only the `CNI_*` keys are read). */
export type CniEnvironment = Readonly<Record<string, string | undefined>>;

/** One `cni.dev/valid-attachments` entry of a GC request. */
export interface CniAttachment {
  containerID: string;
  ifname: string;
}

/** The validated per-invocation parameters (the `CNI_*` variables). */
export interface CniRequestEnv {
  command: CniCommand;
  /** `CNI_CONTAINERID`; empty for VERSION, STATUS and GC. */
  containerId: string;
  /** `CNI_NETNS`; may be empty for DEL. */
  netns: string;
  /** `CNI_IFNAME`; empty for VERSION, STATUS and GC. */
  ifname: string;
  /** `CNI_ARGS` split into pairs (order kept; `IgnoreUnknown` included). */
  args: ReadonlyArray<readonly [string, string]>;
  /** `CNI_PATH` split on `:`. */
  path: readonly string[];
}

/** DNS settings of a config or result. */
export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** `interfaces[]` of a result. */
export interface CniInterface {
  name: string;
  mac?: string;
  /** New in 1.1.0. */
  mtu?: number;
  /** The netns path for interfaces inside the container; absent on the host. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

/** `ips[]` of a result. */
export interface CniIpConfig {
  /** CIDR notation: the address and the subnet's prefix length (`10.244.0.5/24`). */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
  /** Only in 0.3.x/0.4.0 results: `"4"` or `"6"`. */
  version?: "4" | "6";
}

/** `routes[]` of a result. */
export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

/** A success result of ADD (and the `prevResult` of later calls). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

/** The VERSION answer. */
export interface CniVersionResult {
  cniVersion: string;
  supportedVersions: string[];
}

/** The error object printed on stdout with a non-zero exit. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** What the forwarder sends: the CNI environment and the stdin bytes (as text). */
export interface CniRequest {
  env: Record<string, string>;
  stdin: string;
}

/** What the plugin answers: the exit code and the bytes for stdout and stderr. */
export interface CniResponse {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (argv, never a shell) with optional stdin and resolves with its stdout; the seam kernel tests replace. */
export type CniExec = (file: string, args: readonly string[], input?: string) => Promise<string>;
