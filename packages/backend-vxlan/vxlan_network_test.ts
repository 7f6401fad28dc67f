import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import type { FakeIpRoute } from "@weft/iproute/testing";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { CONF, EXT, fakeHost, vxlanLease } from "./_test_helpers.ts";
import { createVxlanBackend } from "./vxlan.ts";
import type { VxlanNetwork } from "./vxlan_network.ts";

async function setup(backend: Record<string, unknown> = { Type: "vxlan" }): Promise<{ ip: FakeIpRoute; net: VxlanNetwork; logs: string[] }> {
  const ip = await fakeHost();
  const logs: string[] = [];
  const at = (_: object, msg?: string): void => void logs.push(msg ?? "");
  const net = await createVxlanBackend({ iproute: ip, externalInterface: EXT, logger: { debug: at, info: at, warn: at, error: at } }).registerNetwork(
    { ...CONF, backend },
    { acquireLease: async (a: LeaseAttrs): Promise<Lease> => ({ ...a, subnet: parseCidr("10.244.1.0/24") }) },
  );
  return { ip, net: net as VxlanNetwork, logs };
}

const lines = (dump: string, re: RegExp) => dump.split("\n").filter((l) => re.test(l));

test("a snapshot programs neighbour, FDB entry and onlink route per peer, in that order", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [net.lease, vxlanLease(2, "192.168.1.2"), vxlanLease(3, "198.51.100.3")] });
  const dump = ip.dump();
  assert.equal(lines(dump, /^neigh/), [
    "neigh 10.244.2.0 lladdr 0e:2a:00:00:00:02 dev flannel.1 nud permanent",
    "neigh 10.244.3.0 lladdr 0e:2a:00:00:00:03 dev flannel.1 nud permanent",
  ]);
  assert.equal(lines(dump, /^fdb/), [
    "fdb 0e:2a:00:00:00:02 dev flannel.1 dst 192.168.1.2 self permanent",
    "fdb 0e:2a:00:00:00:03 dev flannel.1 dst 198.51.100.3 self permanent",
  ]);
  assert.equal(lines(dump, /^route 10\.244/), ["route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink", "route 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink"]);
  const script = ip.batches.map((b) => b.toString()).join("");
  assert.ok(script.indexOf("neigh replace 10.244.2.0") < script.indexOf("fdb replace 0e:2a:00:00:00:02"));
  assert.ok(script.indexOf("fdb replace 0e:2a:00:00:00:02") < script.indexOf("route replace 10.244.2.0/24"));
});

test("removed deletes all three entries of the peer", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [vxlanLease(2), vxlanLease(3)] });
  await net.handleLeaseEvent({ type: "removed", lease: vxlanLease(2) });
  assert.not.match(ip.dump(), /10\.244\.2\.0|0e:2a:00:00:00:02/);
  assert.match(ip.dump(), /route 10\.244\.3\.0\/24 via 10\.244\.3\.0 dev flannel\.1 onlink/);
});

test("a peer's new VtepMAC replaces its neighbour and removes the old FDB entry (flannel leaks it)", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "added", lease: vxlanLease(2) });
  await net.handleLeaseEvent({ type: "added", lease: vxlanLease(2, "192.168.1.2", "0e:2a:00:00:00:99") });
  assert.equal(lines(ip.dump(), /^fdb/), ["fdb 0e:2a:00:00:00:99 dev flannel.1 dst 192.168.1.2 self permanent"]);
  assert.equal(lines(ip.dump(), /^neigh/), ["neigh 10.244.2.0 lladdr 0e:2a:00:00:00:99 dev flannel.1 nud permanent"]);
});

test("leases of other backend types and bad backend data are skipped with a log line", async () => {
  const { ip, net, logs } = await setup();
  const bad: Lease = { ...vxlanLease(4), backendData: { VNI: 1 } };
  await net.handleLeaseEvent({ type: "snapshot", leases: [vxlanLease(2), vxlanLease(3, "192.168.1.3", "0e:2a:00:00:00:03", "host-gw"), bad] });
  assert.ok(logs.includes("ignoring non-vxlan subnet"));
  assert.not.match(ip.dump(), /10\.244\.3\.0/);
  assert.match(net.peerErrors().get("10.244.4.0/24")?.message ?? "", /cannot decode backend data: backendData\.VtepMAC/);
  assert.match(ip.dump(), /10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
});

test("DirectRouting routes same-L2 peers via their public IP and tunnels the others", async () => {
  const { ip, net } = await setup({ Type: "vxlan", DirectRouting: true });
  await net.handleLeaseEvent({ type: "snapshot", leases: [vxlanLease(2, "192.168.1.2"), vxlanLease(3, "198.51.100.3")] });
  const dump = ip.dump();
  assert.match(dump, /route 10\.244\.2\.0\/24 via 192\.168\.1\.2 dev eth0\n/);
  assert.not.match(dump, /0e:2a:00:00:00:02/);
  assert.match(dump, /route 10\.244\.3\.0\/24 via 10\.244\.3\.0 dev flannel\.1 onlink/);
  // the same-L2 peer moves away: the direct route becomes a tunnel route
  await net.handleLeaseEvent({ type: "added", lease: vxlanLease(2, "198.51.100.2") });
  assert.match(ip.dump(), /route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
});

test("a deleted flannel.1 is recreated with its address, MAC and peer entries on the next pass", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [vxlanLease(2)] });
  const before = ip.dump();
  await ip.link.delete("flannel.1");
  assert.not.match(ip.dump(), /flannel\.1/);
  await net.reconcile();
  assert.is(ip.dump(), before);
});

test("a pass brings a downed device back up with its address", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [vxlanLease(2)] });
  await ip.address.delete({ dev: "flannel.1", address: "10.244.1.0/32" });
  await ip.link.set("flannel.1", { up: false }); // the fake drops the routes and neighbours, like the kernel
  await net.reconcile();
  assert.ok((await ip.link.get("flannel.1"))?.up);
  assert.match(ip.dump(), /addr 10\.244\.1\.0\/32 dev flannel\.1/);
  assert.match(ip.dump(), /route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
});

test("dual-stack peers get IPv6 entries on flannel-v6.1 from publicIpv6 and backendV6Data", async () => {
  const ip = await fakeHost();
  await ip.address.add({ dev: "eth0", address: "fd00:1::1/64" });
  const conf = { ...CONF, enableIPv6: true, ipv6Network: parseCidr("fd00:10::/56") };
  const net = await createVxlanBackend({ iproute: ip, externalInterface: { ...EXT, addressV6: parseIp("fd00:1::1") } }).registerNetwork(conf, {
    acquireLease: async (a: LeaseAttrs): Promise<Lease> => ({ ...a, subnet: parseCidr("10.244.1.0/24"), ipv6Subnet: parseCidr("fd00:10:0:1::/64") }),
  });
  const peer: Lease = {
    ...vxlanLease(2),
    ipv6Subnet: parseCidr("fd00:10:0:2::/64"),
    publicIpv6: parseIp("fd00:99::2"),
    backendV6Data: { VNI: 1, VtepMAC: "0e:2a:00:00:06:02" },
  };
  await net.handleLeaseEvent({ type: "snapshot", leases: [peer] });
  const dump = ip.dump();
  assert.match(dump, /neigh fd00:10:0:2:: lladdr 0e:2a:00:00:06:02 dev flannel-v6\.1 nud permanent/);
  assert.match(dump, /fdb 0e:2a:00:00:06:02 dev flannel-v6\.1 dst fd00:99::2 self permanent/);
  assert.match(dump, /route fd00:10:0:2::\/64 via fd00:10:0:2:: dev flannel-v6\.1 onlink/);
  assert.match(dump, /route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
  await net.handleLeaseEvent({ type: "removed", lease: peer });
  assert.not.match(ip.dump(), /fd00:10:0:2|fd00:99::2/);
});

test("run() recreates the device right after a deletion event and stops on abort", async () => {
  const { ip, net, logs } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [vxlanLease(2)] });
  const stop = new AbortController();
  const running = net.run(stop.signal); // resync every 10 s: only the link event can explain a fast repair
  await new Promise((r) => setTimeout(r, 10));
  await ip.link.delete("flannel.1");
  const deadline = Date.now() + 2000;
  while (!/route 10\.244\.2\.0/.test(ip.dump()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await running;
  assert.match(ip.dump(), /route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
  assert.ok(logs.includes("vxlan device is gone; recreating it"));
});

test.run();
