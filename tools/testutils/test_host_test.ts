import { test as base } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "./netns.ts";
import { kernelTest } from "./requirements.ts";
import { createTestHost } from "./test_host.ts";

const test = kernelTest(base, { needs: ["root", "ip"] });

test("createTestHost() makes a directory with the given files, a host namespace and pod namespaces", async () => {
  const node = await createTestHost("tuh", { files: { "subnet.env": "FLANNEL_MTU=1450\n" } });
  try {
    assert.match(node.dir, /weft-tuh-/);
    assert.is(readFileSync(join(node.dir, "subnet.env"), "utf8"), "FLANNEL_MTU=1450\n");
    assert.match(node.host, /^wt-tuhh-/);
    const pod = await node.pod();
    assert.match(pod, /^wt-tuhp-/);
    assert.equal(node.pods, [pod]);
    const list = await sh(["ip", "netns", "list"]);
    assert.match(list, node.host);
    assert.match(list, pod);
  } finally {
    await node.cleanup();
  }
});

test("createTestHost() cleanup() removes the pods, the host namespace and the directory", async () => {
  const node = await createTestHost("tuh");
  const pods = [await node.pod(), await node.pod()];
  await node.cleanup();
  const list = await sh(["ip", "netns", "list"]);
  for (const ns of [node.host, ...pods]) assert.not.match(list, ns);
  assert.not.ok(existsSync(node.dir));
});

test.run();
