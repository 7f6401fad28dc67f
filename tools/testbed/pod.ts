import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { inNetns } from "./netns_exec.ts";
import { REPO_ROOT, type WeftdPaths } from "./weftd_process.ts";

/** The C forwarder a runtime executes (`npm run build:native -w apps/weft-cni` builds it). */
export const WEFT_CNI_BINARY = join(REPO_ROOT, "apps/weft-cni/dist/weft-cni");
/** The CNI network name of testbed clusters (kube-flannel's). */
export const CNI_NETWORK_NAME = "cbr0";

/** A pod: a network namespace with `eth0` attached through the real CNI binary. */
export interface Pod {
  name: string;
  /** The node's name (`node<i>`). */
  node: string;
  /** The node's namespace, where the CNI binary ran. */
  nodeNetns: string;
  /** The pod's namespace name (under /run/netns). */
  netns: string;
  containerId: string;
  ifname: string;
  /** The pod's IPv4 address (no prefix length). */
  ip: string;
  /** With prefix length, as the CNI result gives it. */
  cidr: string;
  gateway: string | undefined;
  /** The CNI ADD result. */
  result: Record<string, unknown>;
}

/** The single-plugin network config the runtime passes on stdin, pointing at one node's files and socket. */
export function podNetworkConfig(paths: WeftdPaths, cniVersion = "1.0.0"): Record<string, unknown> {
  return {
    cniVersion,
    name: CNI_NETWORK_NAME,
    type: "weft",
    bridge: paths.bridge,
    hairpinMode: true,
    isDefaultGateway: true,
    subnetFile: paths.subnetFile,
    dataDir: paths.cniDataDir,
    stateDir: paths.cniStateDir,
    weftSocketPath: paths.cniSocket,
  };
}

/** Thrown when the CNI binary answers with an error; carries the CNI error code. */
export class CniCallError extends Error {
  readonly code: number | undefined;
  readonly command: string;
  constructor(command: string, message: string, code: number | undefined) {
    super(message);
    this.name = "CniCallError";
    this.command = command;
    this.code = code;
  }
}

/** Options for {@linkcode runCni}. */
export interface RunCniOptions {
  ifname?: string;
  cniVersion?: string;
  /** @default 30000 */
  timeoutMs?: number;
}

/**
 * Runs the real weft-cni binary inside the node namespace as a container runtime does: a fresh environment with
 * the CNI_* variables only and the network config on stdin. Resolves with the parsed stdout (ADD/CHECK results).
 */
export function runCni(
  nodeNetns: string,
  call: { command: "ADD" | "DEL" | "CHECK"; containerId: string; podNetns: string; paths: WeftdPaths; prevResult?: unknown },
  options: RunCniOptions = {},
): Promise<Record<string, unknown>> {
  if (!existsSync(WEFT_CNI_BINARY)) {
    return Promise.reject(new Error(`${WEFT_CNI_BINARY} is missing: build it with npm run build:native -w apps/weft-cni`));
  }
  const config = { ...podNetworkConfig(call.paths, options.cniVersion), ...(call.prevResult ? { prevResult: call.prevResult } : {}) };
  const env = {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: `/run/netns/${call.podNetns}`,
    CNI_IFNAME: options.ifname ?? "eth0",
    CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
  };
  const [cmd, ...args] = inNetns(nodeNetns, [WEFT_CNI_BINARY]);
  return new Promise((resolve, reject) => {
    const child = execFile(cmd!, args, { env, timeout: options.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      const text = String(stdout).trim();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        // not JSON: reported below
      }
      if (err) {
        const code = typeof parsed.code === "number" ? parsed.code : undefined;
        const msg = parsed.msg ? `${String(parsed.msg)}${parsed.details ? ` (${String(parsed.details)})` : ""}` : `${String(stderr).trim() || err.message}`;
        reject(new CniCallError(call.command, `CNI ${call.command} ${call.containerId} on ${nodeNetns} failed: ${msg}`, code));
      } else resolve(parsed);
    });
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(JSON.stringify(config));
  });
}

/** The first IPv4 address of a CNI result. */
export function resultIpv4(result: Record<string, unknown>): { cidr: string; ip: string; gateway: string | undefined } {
  const ips = (result.ips ?? []) as { address?: string; gateway?: string }[];
  const v4 = ips.find((i) => i.address && !i.address.includes(":"));
  if (!v4?.address) throw new Error(`CNI result has no IPv4 address: ${JSON.stringify(result)}`);
  return { cidr: v4.address, ip: v4.address.split("/")[0]!, gateway: v4.gateway };
}
