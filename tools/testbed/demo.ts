// `npm run demo`: a 3-node cluster in network namespaces, weftd on every node, pods created through the real
// weft-cni binary, a table of nodes and a pod-to-pod reachability matrix; then teardown (unless --keep).
import { parseArgs } from "node:util";
import { createCluster, destroyOnSignals, type Cluster } from "./cluster.ts";
import { nodeOverlayInfo, reachabilityMatrix, waitForPeerRoutes } from "./overlay_state.ts";
import type { Pod } from "./pod.ts";

const HELP = `usage: npm run demo -- [options]

Builds a cluster of network namespaces (underlay switch, nodes, Redis), starts weftd on every node, creates pods
through the real weft-cni binary, prints the nodes and a pod-to-pod reachability matrix, then tears it all down.
Needs root. Ends with "demo: <reachable>/<total> pod pairs reachable"; exits 1 if any pair fails.

options:
  --backend <type>   vxlan or host-gw                         (default: vxlan)
  --nodes <n>        number of nodes                          (default: 3)
  --pods <n>         pods per node                            (default: 2)
  --name <name>      cluster name (namespaces wtb-<name>-*)   (default: demo)
  --keep             leave the cluster running and print how to enter a pod
  -h, --help         this help
`;

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "vxlan" },
    nodes: { type: "string", default: "3" },
    pods: { type: "string", default: "2" },
    name: { type: "string", default: "demo" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const backend = values.backend!;
if (!["vxlan", "host-gw"].includes(backend)) {
  process.stderr.write(`demo: --backend must be vxlan or host-gw, got "${backend}"\n`);
  process.exit(2);
}
const podsPerNode = Number(values.pods);
if (!Number.isInteger(podsPerNode) || podsPerNode < 1 || podsPerNode > 20) {
  process.stderr.write(`demo: --pods must be 1-20, got "${values.pods}"\n`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write("demo: needs root (it creates network namespaces)\n");
  process.exit(1);
}

const started = performance.now();
const step = (text: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
const pad = (s: string, n: number) => s.padEnd(n);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => pad(c, widths[i]!)).join("  ").trimEnd()).join("\n");
}

async function run(cluster: Cluster): Promise<number> {
  const network = "10.244.0.0/16";
  await cluster.setNetConf({ Network: network, Backend: { Type: backend } });
  step(`net-conf.json in Redis ${cluster.redis!.url}: Network ${network}, Backend ${backend}`);

  await Promise.all(cluster.nodes.map((n) => cluster.startWeftd(n)));
  step(`weftd ready on ${cluster.nodes.length} nodes`);
  const infos = await Promise.all(cluster.nodes.map((n) => nodeOverlayInfo(cluster, n)));
  await waitForPeerRoutes(cluster, infos);
  step("every node has a route to every other node's subnet");

  const pods: Pod[] = [];
  await Promise.all(
    cluster.nodes.map(async (node) => {
      for (let i = 1; i <= podsPerNode; i++) pods.push(await cluster.addPod(node, `pod${i}`));
    }),
  );
  pods.sort((a, b) => a.netns.localeCompare(b.netns));
  step(`${pods.length} pods created through ${"apps/weft-cni/dist/weft-cni"} (CNI ADD in each node namespace)`);

  process.stdout.write(`\n${table([
    ["NODE", "NAMESPACE", "UNDERLAY", "SUBNET", "BACKEND", "MTU", "VTEP MAC", "PODS"],
    ...infos.map((i) => [
      i.node.name, i.node.netns, i.node.underlayIp, i.subnet, backend, String(i.mtu), i.vtepMac ?? "-",
      pods.filter((p) => p.node === i.node.name).map((p) => `${p.name}=${p.ip}`).join(" "),
    ]),
  ])}\n\n`);

  const results = await reachabilityMatrix(pods);
  const label = (p: Pod) => `${p.node}/${p.name}`;
  const ok = new Map(results.map((r) => [`${r.from.netns}>${r.to.netns}`, r.ok] as const));
  process.stdout.write(`${table([
    ["FROM \\ TO", ...pods.map(label)],
    ...pods.map((from) => [label(from), ...pods.map((to) => (to === from ? "-" : ok.get(`${from.netns}>${to.netns}`) ? "ok" : "FAIL"))]),
  ])}\n\n`);
  const reachable = results.filter((r) => r.ok).length;
  for (const r of results.filter((x) => !x.ok)) process.stdout.write(`unreachable: ${label(r.from)} (${r.from.ip}) -> ${label(r.to)} (${r.to.ip})\n`);
  step(`ping -c1 -W1 between ${results.length} pod pairs, in parallel`);
  process.stdout.write(`demo: ${reachable}/${results.length} pod pairs reachable\n`);
  return reachable === results.length ? 0 : 1;
}

let cluster: Cluster | undefined;
let code = 1;
try {
  step(`building cluster "${values.name}": ${values.nodes} nodes, Redis, backend ${backend}`);
  cluster = await createCluster({ name: values.name!, nodes: Number(values.nodes), redis: true, detached: values.keep! });
  destroyOnSignals(cluster);
  code = await run(cluster);
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  code = 1;
} finally {
  if (cluster && values.keep) {
    for (const w of cluster.weftd.values()) w.release();
    const pod = [...cluster.pods.values()][0];
    process.stdout.write(
      `\nThe cluster is still running (--keep). Enter a pod:  ip netns exec ${pod?.netns ?? `${cluster.nodes[0]!.netns}`} bash\n` +
        `  a node:  ip netns exec ${cluster.nodes[0]!.netns} bash    logs: ${cluster.workDir}/logs\n` +
        `  remove it:  npm run testbed -w tools/testbed -- down --name ${cluster.name}\n`,
    );
  } else if (cluster) {
    await cluster.destroy();
    step("cluster torn down");
  }
}
process.exit(code);
