// The demo end to end, as `npm run demo` runs it (3 nodes, 1 pod per node to keep it short), plus its refusals.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, uniqueName } from "@weft/testutils";
import { listClusterNamespaces } from "./cluster.ts";

const DEMO = fileURLToPath(new URL("./demo.ts", import.meta.url));

function demo(args: string[], timeoutMs = 90_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--conditions=@weft/source", "--import=tsx", DEMO, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const unit = suite("demo");

unit("demo --help prints the options; an unknown backend is refused with exit 2", async () => {
  const help = await demo(["--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, "--backend <type>");
  const bad = await demo(["--backend", "udp"]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, 'demo: --backend must be vxlan or host-gw, got "udp"');
});

unit.run();

const kernel = kernelTest(suite("demo (kernel)"), { needs: ["root", "ip", "bridge", "nft", "redis-server"] });

kernel("demo builds a cluster, prints the table and the matrix, ends with all pairs reachable and removes everything", async () => {
  const name = uniqueName("d", { maxLength: 8 });
  const r = await demo(["--name", name, "--pods", "1"]);
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /NODE +NAMESPACE +UNDERLAY +SUBNET +BACKEND +MTU +VTEP MAC +PODS/);
  assert.match(r.stdout, /node1 .* vxlan +1450 +[0-9a-f]{2}(:[0-9a-f]{2}){5} /);
  assert.match(r.stdout, /FROM \\ TO/);
  assert.match(r.stdout, "\ndemo: 6/6 pod pairs reachable\n");
  assert.equal(await listClusterNamespaces(name), []);
});

kernel.run();
