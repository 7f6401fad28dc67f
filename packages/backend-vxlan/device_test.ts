import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import { FakeIpRoute } from "@weft/iproute/testing";
import { configureVxlanDevice, ensureVxlanDevice, linkExists, vxlanIncompatibility, watchLinkDeletion, type VxlanDeviceSpec } from "./device.ts";

async function host(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "peer0" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.1/24" });
  return ip;
}

const SPEC: VxlanDeviceSpec = {
  name: "flannel.1",
  vni: 1,
  port: 0,
  gbp: false,
  learning: false,
  mtu: 1450,
  local: parseIp("192.168.1.1"),
  externalName: "eth0",
};

test("ensureVxlanDevice() creates flannel's device with the given MAC", async () => {
  const ip = await host();
  const dev = await ensureVxlanDevice(ip, { ...SPEC, mac: "0E:2A:00:00:00:01" });
  assert.equal(dev, { name: "flannel.1", index: dev.index, mac: "0e:2a:00:00:00:01", mtu: 1450, created: true });
  assert.match(ip.dump(), /link flannel\.1 type vxlan id 1 local 192\.168\.1\.1 dev eth0 dstport 8472 nolearning mtu 1450/);
  assert.is(await ip.sysctl.get("net/ipv6/conf/flannel.1/accept_ra"), "0");
});

test("ensureVxlanDevice() gives a new device a random locally administered MAC and sets port and gbp", async () => {
  const ip = await host();
  const dev = await ensureVxlanDevice(ip, { ...SPEC, port: 4789, gbp: true }, { randomMac: () => "02:00:00:00:00:99" });
  assert.is(dev.mac, "02:00:00:00:00:99");
  const link = await ip.link.get("flannel.1");
  assert.is(link?.vxlan?.dstport, 4789);
  assert.is(link?.vxlan?.gbp, true);
});

test("ensureVxlanDevice() reuses a compatible device, fixing its MTU and MAC in place", async () => {
  const ip = await host();
  await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, local: "192.168.1.1", dev: "eth0", learning: false, mtu: 1500, mac: "02:00:00:00:00:01" });
  const index = (await ip.link.get("flannel.1"))?.index;
  const dev = await ensureVxlanDevice(ip, { ...SPEC, mac: "02:00:00:00:00:02" });
  assert.is(dev.created, false);
  assert.is(dev.index, index);
  assert.is(dev.mtu, 1450);
  assert.is(dev.mac, "02:00:00:00:00:02");
});

test("ensureVxlanDevice() keeps an existing device's MAC when no MAC is asked for", async () => {
  const ip = await host();
  await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, local: "192.168.1.1", dev: "eth0", learning: false, mtu: 1450, mac: "02:00:00:00:00:07" });
  assert.is((await ensureVxlanDevice(ip, SPEC)).mac, "02:00:00:00:00:07");
});

test("ensureVxlanDevice() replaces an incompatible device", async () => {
  const ip = await host();
  await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, local: "192.168.1.1", dev: "eth0", learning: true, mtu: 1450 });
  const logged: string[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (_: object, msg?: string) => void logged.push(msg ?? "") };
  const dev = await ensureVxlanDevice(ip, SPEC, { logger: log });
  assert.is(dev.created, true);
  assert.is((await ip.link.get("flannel.1"))?.vxlan?.learning, false);
  assert.match(logged[0] ?? "", /"flannel\.1" already exists with incompatible configuration: learning: false vs true; recreating device/);
});

test("vxlanIncompatibility() follows flannel's rules", async () => {
  const ip = await host();
  await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, local: "192.168.1.1", dev: "eth0", learning: false, dstport: 8472 });
  const link = (await ip.link.get("flannel.1"))!;
  assert.is(vxlanIncompatibility(SPEC, link), undefined);
  assert.is(vxlanIncompatibility({ ...SPEC, port: 8472 }, link), undefined);
  assert.is(vxlanIncompatibility({ ...SPEC, vni: 2 }, link), "vni: 2 vs 1");
  assert.is(vxlanIncompatibility({ ...SPEC, port: 4789 }, link), "port: 4789 vs 8472");
  assert.is(vxlanIncompatibility({ ...SPEC, local: parseIp("192.168.1.9") }, link), "vtep (external) IP: 192.168.1.9 vs 192.168.1.1");
  assert.is(vxlanIncompatibility({ ...SPEC, gbp: true }, link), "gbp: true vs false");
  assert.is(vxlanIncompatibility(SPEC, (await ip.link.get("eth0"))!), "link type: vxlan vs veth");
});

test("configureVxlanDevice() sets the /32 address, drops other in-network addresses, and brings it up", async () => {
  const ip = await host();
  await ensureVxlanDevice(ip, { ...SPEC, mac: "02:00:00:00:00:01" });
  await ip.address.add({ dev: "flannel.1", address: "10.244.9.0/32" });
  await ip.address.add({ dev: "flannel.1", address: "172.16.0.1/32" });
  await configureVxlanDevice(ip, "flannel.1", { address: parseCidr("10.244.1.0/32"), network: parseCidr("10.244.0.0/16"), mac: "02:00:00:00:00:01" });
  const addrs = (await ip.address.list({ dev: "flannel.1" })).map((a) => a.cidr).sort();
  assert.equal(addrs, ["10.244.1.0/32", "172.16.0.1/32"]);
  assert.ok((await ip.link.get("flannel.1"))?.up);
});

test("configureVxlanDevice() fails with flannel's message when the MAC is not the wanted one", async () => {
  const ip = await host();
  await ensureVxlanDevice(ip, { ...SPEC, mac: "02:00:00:00:00:01" });
  await configureVxlanDevice(ip, "flannel.1", { address: parseCidr("10.244.1.0/32"), network: parseCidr("10.244.0.0/16"), mac: "02:00:00:00:00:02" }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /mac address wanted: 02:00:00:00:00:02, but got: 02:00:00:00:00:01/),
  );
});

test("watchLinkDeletion() reports deletions of its link only and stops on abort", async () => {
  const ip = await host();
  await ensureVxlanDevice(ip, SPEC);
  await ip.link.add({ type: "vxlan", name: "other", id: 7, learning: false });
  const stop = new AbortController();
  let deletions = 0;
  const watching = watchLinkDeletion(ip, "flannel.1", { signal: stop.signal, onDeleted: () => deletions++ });
  await new Promise((r) => setTimeout(r, 10));
  await ip.link.delete("other");
  await ip.link.delete("flannel.1");
  const deadline = Date.now() + 1000;
  while (deletions === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await watching;
  assert.is(deletions, 1);
  assert.is(await linkExists(ip, "flannel.1"), false);
});

test.run();
