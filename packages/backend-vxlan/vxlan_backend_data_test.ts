import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatVxlanBackendData, normalizeMac, parseVxlanBackendData, randomVtepMac } from "./vxlan_backend_data.ts";

test("formatVxlanBackendData() stringifies exactly like flanneld's annotation", () => {
  const data = formatVxlanBackendData({ vni: 1, vtepMac: "0E:2A:B1:00:00:01" });
  assert.is(JSON.stringify(data), '{"VNI":1,"VtepMAC":"0e:2a:b1:00:00:01"}');
});

test("formatVxlanBackendData() refuses a VNI that flannel's uint16 field would truncate", () => {
  assert.throws(() => formatVxlanBackendData({ vni: 70000, vtepMac: "02:00:00:00:00:01" }), (e: unknown) => e instanceof RangeError);
});

test("parseVxlanBackendData() reads flannel's object and its JSON text", () => {
  const expected = { vni: 1, vtepMac: "aa:bb:cc:dd:ee:ff" };
  assert.equal(parseVxlanBackendData({ VNI: 1, VtepMAC: "aa:bb:cc:dd:ee:ff" }), expected);
  assert.equal(parseVxlanBackendData('{"VNI":1,"VtepMAC":"AA-BB-CC-DD-EE-FF"}'), expected);
  assert.equal(parseVxlanBackendData({ vni: 1, vtepmac: "aa:bb:cc:dd:ee:ff" }), expected);
});

test("parseVxlanBackendData() throws SyntaxError for a missing or bad MAC and bad JSON", () => {
  assert.throws(() => parseVxlanBackendData({ VNI: 1 }), (e: Error) => e instanceof SyntaxError && /VtepMAC/.test(e.message));
  assert.throws(() => parseVxlanBackendData({ VNI: 1, VtepMAC: "zz" }), (e: unknown) => e instanceof SyntaxError);
  assert.throws(() => parseVxlanBackendData("{"), (e: unknown) => e instanceof SyntaxError);
  assert.throws(() => parseVxlanBackendData(null), (e: unknown) => e instanceof SyntaxError);
});

test("normalizeMac() lower-cases and uses colons", () => {
  assert.is(normalizeMac("0A-0B-0C-0D-0E-0F"), "0a:0b:0c:0d:0e:0f");
  assert.throws(() => normalizeMac("0a:0b"), (e: unknown) => e instanceof SyntaxError);
});

test("randomVtepMac() sets the locally administered bit and clears the multicast bit", () => {
  assert.is(randomVtepMac({ random: () => new Uint8Array([0xff, 1, 2, 3, 4, 5]) }), "fe:01:02:03:04:05");
  assert.is(randomVtepMac({ random: () => new Uint8Array([0x00, 0, 0, 0, 0, 0]) }), "02:00:00:00:00:00");
  for (let i = 0; i < 50; i++) {
    const first = parseInt(randomVtepMac().slice(0, 2), 16);
    assert.is(first & 0x03, 0x02);
  }
});

test.run();
