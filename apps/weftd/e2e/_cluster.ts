// Shared helpers of weftd's end-to-end tests: a testbed cluster with weftd on every node and pods made through
// the real weft-cni binary, UDP probes that report the source address a receiver sees, and bounded polling.
import type { ChildProcess } from "node:child_process";
import { uniqueName } from "@weft/testutils";
import {
  createCluster,
  execIn,
  nodeOverlayInfo,
  spawnIn,
  stopProcess,
  waitForPeerRoutes,
  type Cluster,
  type NodeOverlayInfo,
  type Pod,
} from "@weft/testbed";

export const NETWORK = "10.244.0.0/16";
/** What every kernel test of the e2e suite needs. */
export const E2E_NEEDS = ["root", "ip", "bridge", "nft", "redis-server"] as const;

/** A cluster with weftd running everywhere, converged, and `podsPerNode` pods per node. */
export interface OverlayCluster {
  cluster: Cluster;
  infos: NodeOverlayInfo[];
  pods: Pod[];
}

/** Options for {@linkcode startOverlayCluster}. */
export interface StartOverlayClusterOptions {
  nodes?: number;
  podsPerNode?: number;
  /** Extra weftd flags; @default ["--ip-masq"] */
  weftdArgs?: string[];
}

/** Builds a cluster, writes net-conf.json for `backend`, starts weftd on every node, waits for the routes, adds pods. */
export async function startOverlayCluster(backend: string, options: StartOverlayClusterOptions = {}): Promise<OverlayCluster> {
  const cluster = await createCluster({ name: uniqueName("e", { maxLength: 8 }), nodes: options.nodes ?? 3, redis: true });
  try {
    await cluster.setNetConf({ Network: NETWORK, Backend: { Type: backend } });
    await Promise.all(cluster.nodes.map((n) => cluster.startWeftd(n, { args: options.weftdArgs ?? ["--ip-masq"], timeoutMs: 40_000 })));
    const infos = await Promise.all(cluster.nodes.map((n) => nodeOverlayInfo(cluster, n)));
    await waitForPeerRoutes(cluster, infos);
    const pods: Pod[] = [];
    for (const node of cluster.nodes) for (let i = 1; i <= (options.podsPerNode ?? 1); i++) pods.push(await cluster.addPod(node, `pod${i}`));
    return { cluster, infos, pods };
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
}

/** Polls `fn` every `intervalMs` until it returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const LISTENER = `const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>{console.log(r.address);process.exit(0)});s.bind(Number(process.argv[1]),"0.0.0.0",()=>console.log("ready"))`;
const SENDER = `const s=require("dgram").createSocket("udp4");let n=0;const t=setInterval(()=>{s.send("probe",Number(process.argv[2]),process.argv[1]);if(++n>=30){clearInterval(t);s.close()}},100)`;

/**
 * Sends UDP datagrams from `fromNetns` to `toIp` and returns the source address the listener in `listenerNetns`
 * saw first (so masquerading is observed where it matters: at the receiver).
 */
export async function sourceSeenBy(listenerNetns: string, fromNetns: string, toIp: string, port = 9999): Promise<string> {
  const listener: ChildProcess = spawnIn(listenerNetns, [process.execPath, "-e", LISTENER, String(port)]);
  try {
    let out = "";
    listener.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    await waitUntil("the UDP listener", () => out.includes("ready"), 10_000, 20);
    await execIn(fromNetns, [process.execPath, "-e", SENDER, toIp, String(port)], { timeoutMs: 10_000 });
    const line = await waitUntil("a datagram at the listener", () => out.split("\n").find((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l.trim())), 5_000, 20);
    return line.trim();
  } finally {
    await stopProcess(listener, { signal: "SIGKILL" });
  }
}

/** `ip <args>` in a namespace. */
export function ipIn(netns: string, args: string[]): Promise<string> {
  return execIn(netns, ["ip", ...args]);
}

/** The kernel state weftd owns in a node namespace, for before/after comparisons. */
export async function kernelSnapshot(netns: string): Promise<string> {
  const [links, routes, routes6, nft] = await Promise.all([
    execIn(netns, ["ip", "-d", "link", "show"]),
    execIn(netns, ["ip", "-4", "route", "show", "table", "all"]),
    execIn(netns, ["ip", "-6", "route", "show", "table", "all"]),
    execIn(netns, ["nft", "list", "ruleset"]),
  ]);
  // IPv6 link-local routes appear by themselves once a fresh link finishes DAD: not weftd's doing.
  const v6 = routes6.split("\n").filter((l) => !/fe80::|ff00::\/8/.test(l)).join("\n");
  return `${links}\n--\n${routes}\n--\n${v6}\n--\n${nft}`;
}
