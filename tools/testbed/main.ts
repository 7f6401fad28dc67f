// testbed CLI: `testbed up` builds a cluster and holds it until Ctrl-C; `testbed down` removes a cluster's namespaces.
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createCluster, destroyClusterByName, destroyOnSignals } from "./cluster.ts";

const HELP = `usage: testbed <up|down> [options]

  up     build a cluster of network namespaces and keep it until Ctrl-C (then tear it down)
  down   remove every namespace of a cluster (and the processes in them), e.g. after a crash

options:
  --name <name>    cluster name, part of every namespace name wtb-<name>-*   (default: weft)
  --nodes <n>      number of nodes                                           (default: 3)
  --redis          also start redis-server at 198.18.0.2:6379 in its own namespace
  -h, --help       this help
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: "string", default: "weft" },
    nodes: { type: "string", default: "3" },
    redis: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
const command = positionals[0];
if (values.help || !command) {
  process.stdout.write(HELP);
  process.exit(command || values.help ? 0 : 2);
}
if (command === "down") {
  const removed = await destroyClusterByName(values.name!);
  // Work directories (mkdtemp: wtb-<name>-XXXXXX) of clusters left running (demo --keep) or crashed.
  const dirs = readdirSync(tmpdir()).filter((d) => new RegExp(`^wtb-${values.name}-[A-Za-z0-9]{6}$`).test(d));
  for (const d of dirs) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  console.log(removed.length ? `removed ${removed.join(" ")}` : `no namespaces of cluster ${values.name}`);
  if (dirs.length) console.log(`removed ${dirs.map((d) => join(tmpdir(), d)).join(" ")}`);
} else if (command === "up") {
  const cluster = await createCluster({ name: values.name, nodes: Number(values.nodes), redis: values.redis });
  destroyOnSignals(cluster);
  for (const node of cluster.nodes) console.log(`${node.name}\t${node.netns}\t${node.underlayIp}`);
  if (cluster.redis) console.log(`redis\t${cluster.redis.netns}\t${cluster.redis.url}`);
  console.log(`enter a node with: ip netns exec ${cluster.nodes[0]!.netns} bash   (Ctrl-C here tears the cluster down)`);
  setInterval(() => undefined, 1 << 30);
} else {
  process.stderr.write(`testbed: unknown command "${command}"\n${HELP}`);
  process.exit(2);
}
