import { test as base } from "uvu";
import * as assert from "uvu/assert";
import { sh } from "./netns.ts";
import { kernelTest } from "./requirements.ts";
import { withUnderlay } from "./underlay.ts";

const test = kernelTest(base, { needs: ["root", "ip"] });

test("withUnderlay() joins two nodes on one L2 underlay, IPv4 and IPv6, and removes them afterwards", async () => {
  let seen: string[] = [];
  await withUnderlay("tul", async (nodes) => {
    seen = nodes.map((n) => n.netns);
    const [a, b] = nodes;
    assert.is(nodes.length, 2);
    assert.equal([a.address, b.address], ["198.18.0.1", "198.18.0.2"]);
    assert.equal([a.address6, b.address6], ["fd00:18::1", "fd00:18::2"]);
    assert.match(await sh(["ip", "-n", a.netns, "-o", "link", "show", a.dev]), new RegExp(`^${a.index}: ${a.dev}@`));
    await sh(["ip", "netns", "exec", a.netns, "ping", "-c", "1", "-W", "2", b.address]);
    await sh(["ip", "netns", "exec", b.netns, "ping", "-6", "-c", "1", "-W", "2", a.address6!]);
  }, { ipv6: true });
  const left = await sh(["ip", "netns", "list"]);
  for (const ns of seen) assert.not.match(left, ns);
});

test("withUnderlay() with three nodes lets each reach the others, without IPv6 by default", async () => {
  await withUnderlay("tul", async (nodes) => {
    assert.is(nodes.length, 3);
    assert.is(nodes[2]?.address, "198.18.0.3");
    assert.is(nodes[0].address6, undefined);
    assert.not.match(await sh(["ip", "-n", nodes[0].netns, "-6", "addr", "show", "dev", nodes[0].dev, "scope", "global"]), /inet6/);
    for (const from of nodes) for (const to of nodes) if (from !== to) await sh(["ip", "netns", "exec", from.netns, "ping", "-c", "1", "-W", "2", to.address]);
  }, { nodes: 3 });
});

test("withUnderlay() removes every namespace when the body throws", async () => {
  let seen: string[] = [];
  await withUnderlay("tul", async (nodes) => {
    seen = nodes.map((n) => n.netns);
    throw new Error("boom");
  }).then(
    () => assert.unreachable("should have thrown"),
    (err: Error) => assert.is(err.message, "boom"),
  );
  assert.is(seen.length, 2);
  const left = await sh(["ip", "netns", "list"]);
  for (const ns of seen) assert.not.match(left, ns);
});

test("withUnderlay() refuses fewer than two nodes", async () => {
  await withUnderlay("tul", async () => undefined, { nodes: 1 }).then(
    () => assert.unreachable("should have thrown"),
    (err: unknown) => assert.instance(err, RangeError),
  );
});

test.run();
