// weftd end to end with bad input: it exits non-zero with the exact reason and changes nothing in the node's
// kernel state (links, routes, nftables compared before and after), and writes no subnet.env.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, uniqueName } from "@weft/testutils";
import { createCluster, spawnIn, stopProcess, type Cluster, type ClusterNode } from "@weft/testbed";
import { E2E_NEEDS, kernelSnapshot, waitUntil } from "./_cluster.ts";

const test = kernelTest(suite<{ cluster?: Cluster }>("e2e bad input"), { needs: [...E2E_NEEDS] });
test.before(async (ctx) => {
  ctx.cluster = await createCluster({ name: uniqueName("b", { maxLength: 8 }), nodes: 1, redis: true });
});
test.after(async (ctx) => {
  await ctx.cluster?.destroy();
});

/** Starts weftd, expects it to exit by itself; returns the exit code and its log. */
async function runToExit(cluster: Cluster, node: ClusterNode, options: { args?: string[]; redis?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const weftd = await cluster.startWeftd(node, { ...options, waitReady: false });
  const timer = setTimeout(() => void weftd.stop("SIGKILL"), 40_000);
  const exit = await weftd.exited;
  clearTimeout(timer);
  return { code: exit.code, log: weftd.log() };
}

function fatalMessage(log: string): string {
  for (const line of log.split("\n")) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if (entry.level === 60) return entry.msg ?? "";
    } catch {
      // not a log line
    }
  }
  return "";
}

async function expectRefusal(cluster: Cluster, reason: RegExp | string, options: Parameters<typeof runToExit>[2] = {}) {
  const node = cluster.nodes[0]!;
  const before = await kernelSnapshot(node.netns);
  const { code, log } = await runToExit(cluster, node, options);
  assert.is(code, 1, `exit code 1:\n${log}`);
  // The fatal entry (pino level 60), wherever it lands among the lines: stdout and stderr interleave.
  const fatal = fatalMessage(log);
  if (typeof reason === "string") assert.is(fatal, reason, log);
  else assert.match(fatal, reason, log);
  assert.is(await kernelSnapshot(node.netns), before, "kernel state unchanged");
  assert.not.ok(existsSync(cluster.weftdPaths(node).subnetFile), "no subnet.env written");
}

test("malformed net-conf.json in Redis → exit 1 with the parse error, nothing changed", async ({ cluster }) => {
  await cluster!.setNetConf('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}');
  // Go's encoding/json wording, as flanneld reports it.
  await expectRefusal(cluster!, "unexpected end of JSON input");
});

test("unknown backend type → exit 1 naming it, nothing changed", async ({ cluster }) => {
  await cluster!.setNetConf({ Network: "10.244.0.0/16", Backend: { Type: "frobnicate" } });
  await expectRefusal(cluster!, /^Error fetching backend: unknown backend type: frobnicate \(known: .*vxlan.*\)$/);
});

test("kube lease store: a network that does not contain the node's podCIDR → exit 1 with flannel's text, nothing changed", async ({ cluster }) => {
  const node = cluster!.nodes[0]!;
  const main = fileURLToPath(new URL("./_fake_apiserver_main.ts", import.meta.url));
  const fake = spawnIn(node.netns, [process.execPath, "--conditions=@weft/source", "--import=tsx", main, node.name, "10.99.1.0/24"], { stdio: ["pipe", "pipe", "pipe"] });
  try {
    let out = "";
    let err = "";
    fake.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    fake.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    const info = await waitUntil("the fake API server", () => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line && fake.exitCode !== null) throw new Error(`fake API server exited: ${err}`);
      return line ? (JSON.parse(line) as { url: string; kubeconfigPath: string }) : undefined;
    }, 30_000);
    const netConf = join(cluster!.workDir, "net-conf.json");
    writeFileSync(netConf, JSON.stringify({ Network: "10.244.0.0/16", Backend: { Type: "vxlan" } }));
    await expectRefusal(
      cluster!,
      `subnet "10.244.0.0/16" specified in the flannel net config doesn't contain "10.99.1.0/24" PodCIDR of the "${node.name}" node`,
      { redis: false, args: ["--kube-subnet-mgr", "--kubeconfig-file", info.kubeconfigPath, "--net-config-path", netConf], env: { NODE_NAME: node.name } },
    );
  } finally {
    await stopProcess(fake, { signal: "SIGTERM" });
  }
});

test.run();
