import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseIp } from "@weft/ipam";
import { FakeIpRoute } from "@weft/iproute/testing";
import { ExternalInterfaceError, lookupExternalInterface } from "./external_interface.ts";

async function host(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "p0" }, up: true, mtu: 9001 });
  await ip.link.add({ type: "veth", name: "eth1", peer: { name: "p1" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.11/24" });
  await ip.address.add({ dev: "eth0", address: "fd00:1::11/64" });
  await ip.address.add({ dev: "eth1", address: "172.16.0.11/24" });
  await ip.route.add({ dst: "default", via: "192.168.1.1", dev: "eth0" });
  return ip;
}

test("lookupExternalInterface() takes the default route's interface and its addresses", async () => {
  const ip = await host();
  const ext = await lookupExternalInterface(ip);
  const index = (await ip.link.get("eth0"))?.index;
  assert.equal(ext, {
    name: "eth0",
    index,
    mtu: 9001,
    address: parseIp("192.168.1.11"),
    addressV6: parseIp("fd00:1::11"),
    publicIp: parseIp("192.168.1.11"),
    publicIpv6: parseIp("fd00:1::11"),
  });
});

test("lookupExternalInterface() honours --iface by name or address and --public-ip", async () => {
  const ip = await host();
  assert.is((await lookupExternalInterface(ip, { iface: "eth1" })).name, "eth1");
  const byAddr = await lookupExternalInterface(ip, { iface: "172.16.0.11", publicIp: parseIp("203.0.113.9") });
  assert.is(byAddr.name, "eth1");
  assert.equal(byAddr.address, parseIp("172.16.0.11"));
  assert.equal(byAddr.publicIp, parseIp("203.0.113.9"));
});

test("lookupExternalInterface() fails with flannel-like messages", async () => {
  const ip = await host();
  const fails = async (p: Promise<unknown>, re: RegExp) =>
    p.then(
      () => assert.unreachable("should fail"),
      (e: Error) => {
        assert.instance(e, ExternalInterfaceError);
        assert.match(e.message, re);
      },
    );
  await fails(lookupExternalInterface(ip, { iface: "eth9" }), /^error looking up interface eth9/);
  await fails(lookupExternalInterface(ip, { iface: "10.9.9.9" }), /no interface has this name or address/);
  await fails(lookupExternalInterface(ip, { iface: ["eth9"], ifaceRegex: ["^zz"] }), /^Failed to find interface to use that matches the interfaces and\/or regexes provided/);
  await fails(lookupExternalInterface(ip, { iface: "eth1", ipv6: true }), /^failed to find IPv6 address for interface eth1$/);
  await ip.route.delete({ dst: "default", via: "192.168.1.1", dev: "eth0" });
  await fails(lookupExternalInterface(ip), /^failed to get default interface/);
});

test("lookupExternalInterface() tries --iface entries in order, then --iface-regex on addresses before names", async () => {
  const ip = await host();
  let reason = "";
  const onChosen = (r: string) => (reason = r);
  assert.is((await lookupExternalInterface(ip, { iface: ["eth9", "eth1"], onChosen })).name, "eth1");
  assert.is(reason, "--iface eth1 (name)");
  const viaRegex = await lookupExternalInterface(ip, { ifaceRegex: ["^172\\.16\\.0\\.\\d+$"], onChosen });
  assert.is(viaRegex.name, "eth1");
  assert.equal(viaRegex.address, parseIp("172.16.0.11"));
  assert.is(reason, "--iface-regex ^172\\.16\\.0\\.\\d+$ (address)");
  assert.is((await lookupExternalInterface(ip, { ifaceRegex: ["^eth0$"], onChosen })).name, "eth0");
  assert.is(reason, "--iface-regex ^eth0$ (name)");
  await lookupExternalInterface(ip, { onChosen });
  assert.is(reason, "default route interface");
});

test("lookupExternalInterface() keeps the address an --iface entry named, even if it is not the first", async () => {
  const ip = await host();
  await ip.address.add({ dev: "eth0", address: "192.168.1.20/24" });
  const ext = await lookupExternalInterface(ip, { iface: "192.168.1.20" });
  assert.equal(ext.address, parseIp("192.168.1.20"));
  assert.equal(ext.publicIp, parseIp("192.168.1.20"));
});

test.run();
