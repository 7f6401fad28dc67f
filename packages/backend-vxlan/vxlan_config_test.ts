import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseVxlanConfig, vxlanDeviceName, vxlanMtu } from "./vxlan_config.ts";

test("parseVxlanConfig() gives flannel's defaults for an empty or missing Backend", () => {
  const expected = { vni: 1, port: 0, gbp: false, learning: false, directRouting: false };
  assert.equal(parseVxlanConfig(undefined), expected);
  assert.equal(parseVxlanConfig({ Type: "vxlan" }), expected);
});

test("parseVxlanConfig() matches keys case-insensitively like Go's encoding/json", () => {
  const c = parseVxlanConfig({ Type: "vxlan", vni: 4096, PORT: 4789, Mtu: 1400, gbp: true, Learning: true, directRouting: true });
  assert.equal(c, { vni: 4096, port: 4789, mtu: 1400, gbp: true, learning: true, directRouting: true });
});

test("parseVxlanConfig() names the key in type and range errors", () => {
  assert.throws(() => parseVxlanConfig({ VNI: "1" }), (e: Error) => e instanceof TypeError && /Backend\.VNI/.test(e.message));
  assert.throws(() => parseVxlanConfig({ VNI: 0 }), (e: Error) => e instanceof RangeError && /Backend\.VNI/.test(e.message));
  assert.throws(() => parseVxlanConfig({ VNI: 0x1000000 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => parseVxlanConfig({ Port: 70000 }), /Backend\.Port/);
  assert.throws(() => parseVxlanConfig({ DirectRouting: "yes" }), /Backend\.DirectRouting/);
  assert.throws(() => parseVxlanConfig([]), (e: unknown) => e instanceof TypeError);
});

test("vxlanDeviceName() follows flannel.<VNI> and flannel-v6.<VNI>", () => {
  assert.is(vxlanDeviceName(1), "flannel.1");
  assert.is(vxlanDeviceName(7, { family: 6 }), "flannel-v6.7");
});

test("vxlanMtu() subtracts 50 from the interface MTU or the configured MTU", () => {
  assert.is(vxlanMtu({}, 1500), 1450);
  assert.is(vxlanMtu({}, 9001), 8951);
  assert.is(vxlanMtu({ mtu: 1400 }, 1500), 1350);
  assert.is(vxlanMtu({}, 1500, { family: 6 }), 1430);
});

test.run();
