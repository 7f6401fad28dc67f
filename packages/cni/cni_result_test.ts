import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertResult } from "./cni_result.ts";
import type { CniResult } from "./types.ts";

const result: CniResult = {
  cniVersion: "1.1.0",
  interfaces: [{ name: "cni0", mac: "0a:58:0a:f4:00:01" }, { name: "eth0", mac: "0a:58:0a:f4:00:02", mtu: 1450, sandbox: "/run/netns/p" }],
  ips: [{ address: "10.244.0.2/24", gateway: "10.244.0.1", interface: 1 }, { address: "fd00::2/64", gateway: "fd00::1", interface: 1 }],
  routes: [{ dst: "10.244.0.0/16", mtu: 1400 }],
};

test("convertResult() adds ips[].version for 0.3.1 and drops 1.1.0-only fields", () => {
  const r = convertResult(result, "0.3.1");
  assert.is(r.cniVersion, "0.3.1");
  assert.equal(r.ips, [
    { version: "4", interface: 1, address: "10.244.0.2/24", gateway: "10.244.0.1" },
    { version: "6", interface: 1, address: "fd00::2/64", gateway: "fd00::1" },
  ]);
  assert.equal(r.interfaces![1], { name: "eth0", mac: "0a:58:0a:f4:00:02", sandbox: "/run/netns/p" });
  assert.equal(r.routes, [{ dst: "10.244.0.0/16" }]);
  assert.equal(r.dns, {});
});

test("convertResult() prints no ips[].version for 1.0.0", () => {
  const r = convertResult({ ...result, ips: [{ version: "4", address: "10.244.0.2/24" }] }, "1.0.0");
  assert.equal(r.ips, [{ address: "10.244.0.2/24" }]);
});

test("convertResult() keeps interfaces[].mtu and routes[].mtu for 1.1.0", () => {
  const r = convertResult(result, "1.1.0");
  assert.is(r.interfaces![1]!.mtu, 1450);
  assert.is(r.routes![0]!.mtu, 1400);
});

test.run();
