import { test } from "uvu";
import * as assert from "uvu/assert";
import { FakeIpRoute } from "@weft/iproute/testing";
import { findExternalInterface, InterfaceNotFoundError } from "./external_interface.ts";

async function node(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "bridge", name: "ext0", up: true, mtu: 1400 });
  await ip.address.add({ dev: "ext0", address: "192.168.1.10/24" });
  await ip.address.add({ dev: "ext0", address: "192.168.1.20/24" });
  await ip.link.add({ type: "bridge", name: "data0", up: true });
  await ip.address.add({ dev: "data0", address: "172.16.30.18/24" });
  await ip.route.add({ dst: "default", via: "192.168.1.1", dev: "ext0" });
  return ip;
}

test("findExternalInterface() uses the default route interface and its first address", async () => {
  const { externalInterface: ext, reason } = await findExternalInterface(await node());
  assert.is(ext.name, "ext0");
  assert.is(ext.mtu, 1400);
  assert.is(ext.address?.address, "192.168.1.10");
  assert.is(ext.publicIp?.address, "192.168.1.10");
  assert.is(reason, "default route interface");
});

test("findExternalInterface() honours --iface by name and by address, first match wins", async () => {
  const ip = await node();
  assert.is((await findExternalInterface(ip, { iface: ["nope", "data0"] })).externalInterface.name, "data0");
  const byAddr = await findExternalInterface(ip, { iface: ["192.168.1.20"] });
  assert.is(byAddr.externalInterface.name, "ext0");
  assert.is(byAddr.externalInterface.address?.address, "192.168.1.20");
});

test("findExternalInterface() matches --iface-regex against addresses before names", async () => {
  const ip = await node();
  const r = await findExternalInterface(ip, { ifaceRegex: ["^172\\.16\\.30\\.\\d+$"] });
  assert.is(r.externalInterface.name, "data0");
  assert.is(r.externalInterface.address?.address, "172.16.30.18");
  assert.is((await findExternalInterface(ip, { ifaceRegex: ["^data\\d$"] })).externalInterface.name, "data0");
});

test("findExternalInterface() uses --public-ip for peers but keeps the interface address", async () => {
  const r = await findExternalInterface(await node(), { publicIp: "203.0.113.7" });
  assert.is(r.externalInterface.address?.address, "192.168.1.10");
  assert.is(r.externalInterface.publicIp?.address, "203.0.113.7");
  await findExternalInterface(await node(), { publicIp: "fd00::1" }).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /--public-ip: "fd00::1" is not an IPv4 address/),
  );
});

test("findExternalInterface() fails with flannel's message when nothing matches", async () => {
  try {
    await findExternalInterface(await node(), { iface: ["eth9"], ifaceRegex: ["^zz"] });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InterfaceNotFoundError);
    assert.match((err as Error).message, "Failed to find interface to use that matches the interfaces and/or regexes provided");
  }
});

test("findExternalInterface() explains a missing default route", async () => {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "bridge", name: "ext0", up: true });
  await findExternalInterface(ip).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /no IPv4 default route; use --iface/),
  );
});

test.run();
