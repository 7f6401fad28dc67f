// Test scaffolding shared by this package's kernel tests: a throwaway "host" namespace with a
// subnet.env and state directories, pods as namespaces, and CNI calls through dispatch().
import { execFile } from "node:child_process";
import { join } from "node:path";
import { createTestHost, type TestHost } from "@weft/testutils";
import { dispatch, type CniPlugin } from "./dispatch.ts";
import type { CniExec, CniResponse } from "./types.ts";

export const SUBNET_ENV_V4 = "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
export const SUBNET_ENV_DUAL =
  "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_IPV6_NETWORK=fd00:10::/56\nFLANNEL_IPV6_SUBNET=fd00:10::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";

export interface TestNode extends TestHost {
  subnetFile: string;
  dataDir: string;
  stateDir: string;
  conf(extra?: Record<string, unknown>): Record<string, unknown>;
}

export async function testNode(subnetEnv: string | null = SUBNET_ENV_V4): Promise<TestNode> {
  const node = await createTestHost("cni", { files: subnetEnv === null ? {} : { "subnet.env": subnetEnv } });
  const subnetFile = join(node.dir, "subnet.env");
  const [dataDir, stateDir] = [join(node.dir, "ipam"), join(node.dir, "state")];
  return {
    ...node, subnetFile, dataDir, stateDir,
    conf: (extra = {}) => ({ cniVersion: "1.0.0", name: "cbr0", type: "weft", subnetFile, dataDir, stateDir, ...extra }),
  };
}

export function call(plugin: CniPlugin, command: string, env: { id: string; netns?: string; ifname?: string; args?: string }, conf: Record<string, unknown>): Promise<CniResponse> {
  const e: Record<string, string> = { CNI_COMMAND: command, CNI_CONTAINERID: env.id, CNI_IFNAME: env.ifname ?? "eth0", CNI_PATH: "/opt/cni/bin" };
  if (env.args !== undefined) e.CNI_ARGS = env.args;
  if (env.netns !== undefined) e.CNI_NETNS = env.netns.includes("/") ? env.netns : `/run/netns/${env.netns}`;
  return dispatch({ env: e, stdin: JSON.stringify(conf) }, plugin);
}

/** A `CniExec` over execFile, for tests that wrap it to inject failures. */
export const execFileExec: CniExec = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(file, args as string[], (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`${file} ${args.join(" ")}: ${String(stderr).trim() || err.message}`, { cause: err }), { stderr: String(stderr) }));
      else resolve(String(stdout));
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
