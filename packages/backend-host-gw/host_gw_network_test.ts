import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import type { FakeIpRoute } from "@weft/iproute/testing";
import type { Network } from "@weft/backend";
import type { NetConf } from "@weft/netconf";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { CONF, EXT, fakeHost, hostGwLease } from "./_test_helpers.ts";
import { createHostGwBackend } from "./host_gw.ts";
import type { HostGwNetwork } from "./host_gw_network.ts";

async function setup(conf: NetConf = CONF, ext = EXT): Promise<{ ip: FakeIpRoute; net: Network; logs: string[] }> {
  const ip = await fakeHost();
  const logs: string[] = [];
  const at = (_: object, msg?: string): void => void logs.push(msg ?? "");
  const net = await createHostGwBackend({ iproute: ip, externalInterface: ext, logger: { debug: at, info: at, warn: at, error: at } }).registerNetwork(conf, {
    acquireLease: async (a: LeaseAttrs): Promise<Lease> => ({ ...a, subnet: parseCidr("10.244.1.0/24"), ...(conf.enableIPv6 ? { ipv6Subnet: parseCidr("fd00:10:0:1::/64") } : {}) }),
  });
  return { ip, net, logs };
}

const routes = (ip: FakeIpRoute) => ip.dump().split("\n").filter((l) => l.startsWith("route 10.244") || l.startsWith("route fd00:10"));

test("a snapshot routes each peer's subnet via its public IP on the external interface", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [net.lease, hostGwLease(2), hostGwLease(3)] });
  assert.equal(routes(ip), ["route 10.244.2.0/24 via 192.168.1.2 dev eth0", "route 10.244.3.0/24 via 192.168.1.3 dev eth0"]);
});

test("a changed public IP replaces the route; removal deletes it", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "added", lease: hostGwLease(2) });
  await net.handleLeaseEvent({ type: "added", lease: hostGwLease(2, "192.168.1.20") });
  assert.equal(routes(ip), ["route 10.244.2.0/24 via 192.168.1.20 dev eth0"]);
  await net.handleLeaseEvent({ type: "removed", lease: hostGwLease(2, "192.168.1.20") });
  assert.equal(routes(ip), []);
  assert.match(ip.dump(), /route default via 192\.168\.1\.254 dev eth0/, "foreign routes stay");
});

test("a peer off this L2 gets a clear error for that peer only; the others are served", async () => {
  const { ip, net, logs } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [hostGwLease(2), hostGwLease(3, "203.0.113.3"), hostGwLease(4, "172.16.0.4"), hostGwLease(5)] });
  assert.equal(routes(ip), ["route 10.244.2.0/24 via 192.168.1.2 dev eth0", "route 10.244.5.0/24 via 192.168.1.5 dev eth0"]);
  const errors = net.peerErrors();
  assert.equal([...errors.keys()].sort(), ["10.244.3.0/24", "10.244.4.0/24"]);
  assert.is(errors.get("10.244.3.0/24")?.message, "Peer 10.244.3.0/24: host-gw needs peers on the same L2 network: 203.0.113.3 is reachable only through the gateway 192.168.1.254");
  assert.is(errors.get("10.244.4.0/24")?.message, "Peer 10.244.4.0/24: host-gw needs peers on the same L2 network: 172.16.0.4 is reachable on eth1, not on eth0");
  assert.ok(logs.some((l) => l.includes("203.0.113.3")));
});

test("leases of another backend type are ignored with flannel's log line", async () => {
  const { ip, net, logs } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [hostGwLease(2, "192.168.1.2", "vxlan")] });
  assert.equal(routes(ip), []);
  assert.ok(logs.includes("ignoring non-host-gw subnet"));
});

test("a route deleted by someone else is restored by the next pass", async () => {
  const { ip, net } = await setup();
  await net.handleLeaseEvent({ type: "snapshot", leases: [hostGwLease(2)] });
  await ip.route.delete({ dst: "10.244.2.0/24", via: "192.168.1.2", dev: "eth0" });
  const report = await (net as HostGwNetwork).reconcile();
  assert.is(report.diff.add.routes.length, 1);
  assert.equal(routes(ip), ["route 10.244.2.0/24 via 192.168.1.2 dev eth0"]);
});

test("dual-stack routes the IPv6 subnet via the peer's IPv6 public address", async () => {
  const conf: NetConf = { ...CONF, enableIPv6: true, ipv6Network: parseCidr("fd00:10::/56") };
  const { ip, net } = await setup(conf, { ...EXT, addressV6: parseIp("fd00:1::1") });
  const peer: Lease = { ...hostGwLease(2), ipv6Subnet: parseCidr("fd00:10:0:2::/64"), publicIpv6: parseIp("fd00:1::2") };
  await net.handleLeaseEvent({ type: "snapshot", leases: [peer] });
  assert.equal(routes(ip), ["route 10.244.2.0/24 via 192.168.1.2 dev eth0", "route fd00:10:0:2::/64 via fd00:1::2 dev eth0"]);
});

test.run();
