import { suite } from "uvu";
import * as assert from "uvu/assert";
import { conformance } from "./_conformance.ts";
import { Batch } from "./batch.ts";
import { FakeIpRoute } from "./fake_ip_route.ts";
import type { IpRoute } from "./ip_route.ts";
import { isNotFound } from "./ip_route_error.ts";

const fake = suite("FakeIpRoute (conformance)");
conformance(fake, async (fn) => {
  const ip = new FakeIpRoute({ netns: "node1" });
  const peerNetns = "/proc/4242/ns/net";
  await fn({ ip, peerNetns, peer: ip.forNetns(peerNetns) });
});
fake.run();

const test = suite("FakeIpRoute");

test("FakeIpRoute implements IpRoute", () => {
  const ip: IpRoute = new FakeIpRoute();
  assert.type(ip.apply, "function");
});

test("dump() prints the state in iproute2 syntax", async () => {
  const ip = new FakeIpRoute();
  await ip.apply(new Batch()
    .addLink({ type: "vxlan", name: "flannel.1", id: 1, local: "198.18.0.1", dstport: 8472, learning: false, mtu: 1450, up: true })
    .addAddress({ dev: "flannel.1", address: "10.244.1.0/32" })
    .replaceNeigh({ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" })
    .replaceFdb({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" })
    .replaceRoute({ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true }));
  assert.is(ip.dump(), [
    "link flannel.1 type vxlan id 1 local 198.18.0.1 dstport 8472 nolearning mtu 1450 up",
    "addr 10.244.1.0/32 dev flannel.1",
    "route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    "neigh 10.244.2.0 lladdr 0e:2a:00:00:00:02 dev flannel.1 nud permanent",
    "fdb 0e:2a:00:00:00:02 dev flannel.1 dst 198.18.0.2 self permanent",
    "",
  ].join("\n"));
  assert.is(ip.lastBatch?.size, 5);
});

test("load() seeds state from dump() text and dump() gives it back", async () => {
  const state = [
    "link br0 type bridge mtu 1500 up",
    "link veth0 type veth peer veth1 mtu 1500 master br0 hairpin on up",
    "link veth1 type veth peer veth0 mtu 1500 down",
    "link eth0 type veth peer eth0 netns pod1 mtu 1500 up",
    "link flannel.1 type vxlan id 1 local 198.18.0.1 dev eth0 dstport 8472 nolearning mtu 1450 up",
    "addr 198.18.0.1/24 dev eth0",
    "addr 10.244.1.0/32 dev flannel.1",
    "route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    "route 10.244.9.0/24 via 198.18.0.9 dev eth0",
    "route 198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.1",
    "neigh 10.244.2.0 lladdr 0e:2a:00:00:00:02 dev flannel.1 nud permanent",
    "fdb 00:00:00:00:00:00 dev flannel.1 dst 198.18.0.3 self permanent",
    "fdb 00:00:00:00:00:00 dev flannel.1 dst 198.18.0.4 self permanent",
    "fdb 0e:2a:00:00:00:02 dev flannel.1 dst 198.18.0.2 self permanent",
    "",
  ].join("\n");
  const ip = new FakeIpRoute();
  await ip.load(state);
  assert.is(ip.dump(), state);
  assert.ok(await ip.forNetns("pod1").link.get("eth0"));
  await new FakeIpRoute().load("bogus line").then(() => assert.unreachable(), (err: Error) => assert.instance(err, SyntaxError));
});

test("failNext makes the next operation of a kind fail with that kind", async () => {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "bridge", name: "br0" });
  ip.failNext = { op: "link.set", kind: "NotFound" };
  try {
    await ip.link.set("br0", { up: true });
    assert.unreachable();
  } catch (err) {
    assert.ok(isNotFound(err));
  }
  await ip.link.set("br0", { up: true });
  assert.is((await ip.link.get("br0"))?.up, true);
});

test("forNetns() shares state: a namespace path under /var/run/netns is the same namespace as its name", async () => {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "v0", peer: { name: "eth0", netns: "pod1" } });
  assert.ok(await ip.forNetns("/var/run/netns/pod1").link.get("eth0"));
  assert.ok(await ip.forNetns("pod1").link.get("eth0"));
});

test.run();
