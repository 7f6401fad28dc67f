// 200 pods at once through the real binary, as a runtime would start them (env + stdin).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createCniServer, createPodNetwork } from "@weft/cni";
import { createNetns, deleteNetns, kernelTest, sh } from "@weft/testutils";
import { ensureForwarder, makeNode, runCni } from "./_test_helpers.ts";

const test = kernelTest(suite("weft-cni load"), { needs: ["root", "ip", "cc"] });
const N = 200;

test(`${N} concurrent ADDs then DELs: ${N} distinct addresses, none left reserved, no veth left`, async () => {
  ensureForwarder();
  const node = await makeNode();
  const plugin = createPodNetwork({ hostNetns: node.host });
  const server = createCniServer({ socketPath: node.socket, plugin });
  const pods: string[] = [];
  await server.start();
  try {
    for (let i = 0; i < N; i++) pods.push(await createNetns("cnl"));
    const conf = node.conf({ cniVersion: "1.0.0" });
    const adds = await Promise.all(pods.map((p, i) => runCni(node, "ADD", { id: `load-${i}`, netns: p }, conf)));
    const failed = adds.filter((r) => r.exitCode !== 0);
    assert.is(failed.length, 0, failed[0]?.stdout);
    const ips = adds.map((r) => JSON.parse(r.stdout).ips[0].address as string);
    assert.is(new Set(ips).size, N);
    assert.is(readdirSync(join(node.dir, "ipam", "cbr0")).filter((f) => f.startsWith("10.")).length, N);
    assert.is((await sh(["ip", "-n", node.host, "-o", "link", "show", "master", "cni0"])).trim().split("\n").length, N);
    const dels = await Promise.all(pods.map((p, i) => runCni(node, "DEL", { id: `load-${i}`, netns: p }, conf)));
    assert.is(dels.filter((r) => r.exitCode !== 0).length, 0);
    await plugin.settled();
    const dir = join(node.dir, "ipam", "cbr0");
    assert.equal(existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith("10.")) : [], []);
    assert.is((await sh(["ip", "-n", node.host, "-o", "link", "show", "type", "veth"])).trim(), "");
  } finally {
    await server.stop();
    for (const p of pods) await deleteNetns(p);
    await node.cleanup();
  }
});

test.run();
