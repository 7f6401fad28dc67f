// Shared scaffolding of this app's tests: the built forwarder, a throwaway host namespace with a
// subnet.env, and runtime-like invocations of the binary.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestHost, type TestHost } from "@weft/testutils";
import { execPlugin } from "@weft/cni/testing";
import type { CniResponse } from "@weft/cni";

const here = dirname(fileURLToPath(import.meta.url));
export const FORWARDER = join(here, "dist", "weft-cni");
export const MAIN = join(here, "main.ts");

/** Builds dist/weft-cni with the system compiler when it is missing or older than its source. */
export function ensureForwarder(): string {
  const src = join(here, "src", "weft_cni.c");
  if (!existsSync(FORWARDER) || statSync(FORWARDER).mtimeMs < statSync(src).mtimeMs) {
    execFileSync("npm", ["run", "--silent", "build:native"], { cwd: here, stdio: "ignore" });
  }
  return FORWARDER;
}

export interface Node extends TestHost {
  socket: string;
  conf(extra?: Record<string, unknown>): Record<string, unknown>;
}

export async function makeNode(): Promise<Node> {
  const node = await createTestHost("cnb", { files: { "subnet.env": "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n" } });
  const { dir } = node;
  return {
    ...node, socket: join(dir, "run", "cni.sock"),
    conf: (extra = {}) => ({
      cniVersion: "1.0.0", name: "cbr0", type: "weft", subnetFile: join(dir, "subnet.env"), dataDir: join(dir, "ipam"), stateDir: join(dir, "state"), ...extra,
    }),
  };
}

/** Runs the forwarder as a runtime does: env + config on stdin. */
export function runCni(node: Node, command: string, env: { id?: string; netns?: string; ifname?: string; extra?: Record<string, string> }, conf: Record<string, unknown> | string): Promise<CniResponse> {
  const e: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: "/opt/cni/bin", WEFT_CNI_SOCKET: node.socket };
  if (env.id !== undefined) e.CNI_CONTAINERID = env.id;
  if (env.netns !== undefined) e.CNI_NETNS = env.netns.includes("/") ? env.netns : `/run/netns/${env.netns}`;
  e.CNI_IFNAME = env.ifname ?? "eth0";
  Object.assign(e, env.extra ?? {});
  return execPlugin(FORWARDER, { env: e, stdin: typeof conf === "string" ? conf : JSON.stringify(conf) });
}
