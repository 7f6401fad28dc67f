import { readFileSync } from "node:fs";
import type { Cluster, ClusterNode } from "./cluster.ts";
import { execIn } from "./netns_exec.ts";
import type { Pod } from "./pod.ts";

/** subnet.env as key → value (FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ). */
export function readSubnetEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The network part of `10.244.1.1/24` → `10.244.1.0/24` (IPv4 only). */
export function subnetOf(cidr: string): string {
  const [addr, len] = cidr.split("/");
  const bits = Number(len);
  const n = addr!.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join(".")}/${bits}`;
}

/** What one node's agent set up: its subnet (from subnet.env), MTU and VTEP MAC (flannel.1, if any). */
export interface NodeOverlayInfo {
  node: ClusterNode;
  /** e.g. 10.244.3.0/24 */
  subnet: string;
  mtu: number;
  vtepMac: string | undefined;
}

/** Reads a node's subnet.env and its `flannel.1` MAC. */
export async function nodeOverlayInfo(cluster: Cluster, node: ClusterNode): Promise<NodeOverlayInfo> {
  const env = readSubnetEnvFile(cluster.weftdPaths(node).subnetFile);
  const subnet = subnetOf(env.FLANNEL_SUBNET ?? "");
  const links = JSON.parse(await execIn(node.netns, ["ip", "-j", "link", "show"])) as { ifname: string; address?: string }[];
  const vtep = links.find((l) => l.ifname === "flannel.1");
  return { node, subnet, mtu: Number(env.FLANNEL_MTU), vtepMac: vtep?.address };
}

/** Options for {@linkcode waitForPeerRoutes}. */
export interface WaitForPeerRoutesOptions {
  /** @default 15000 */
  timeoutMs?: number;
}

/** Waits until every node has a route to every other node's subnet. */
export async function waitForPeerRoutes(cluster: Cluster, infos: readonly NodeOverlayInfo[], options: WaitForPeerRoutesOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (const info of infos) {
    const wanted = infos.filter((i) => i !== info).map((i) => i.subnet);
    for (;;) {
      const routes = await execIn(info.node.netns, ["ip", "route", "show"]);
      const missing = wanted.filter((s) => !routes.split("\n").some((l) => l.startsWith(`${s} `)));
      if (missing.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${info.node.name}: no route to ${missing.join(", ")} after ${options.timeoutMs ?? 15_000} ms:\n${routes}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** One ping from a pod to another. */
export interface PingResult {
  from: Pod;
  to: Pod;
  ok: boolean;
}

/** Pings one address from inside a namespace (`ping -c1 -W<s>`); resolves true on a reply. */
export async function pingOnce(netns: string, ip: string, waitSec = 1): Promise<boolean> {
  return execIn(netns, ["ping", "-n", "-q", "-c", "1", "-W", String(waitSec), ip], { timeoutMs: (waitSec + 5) * 1000 }).then(
    () => true,
    () => false,
  );
}

/** Pings every pod from every other pod, all in parallel. */
export async function reachabilityMatrix(pods: readonly Pod[], options: { waitSec?: number } = {}): Promise<PingResult[]> {
  const pairs = pods.flatMap((from) => pods.filter((to) => to !== from).map((to) => ({ from, to })));
  return Promise.all(pairs.map(async ({ from, to }) => ({ from, to, ok: await pingOnce(from.netns, to.ip, options.waitSec ?? 1) })));
}
