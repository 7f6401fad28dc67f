import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseIp } from "@weft/ipam";
import { decodeLeaseAttrs, encodeLeaseAttrs } from "./lease_json.ts";

test("encodeLeaseAttrs() writes flannel's registry_test value exactly", () => {
  assert.is(encodeLeaseAttrs({ publicIp: parseIp("1.2.3.4") }), '{"PublicIP":"1.2.3.4","PublicIPv6":null}');
});

test("encodeLeaseAttrs() writes flannel's vxlan reservation example exactly", () => {
  const attrs = { publicIp: parseIp("192.168.64.3"), backendType: "vxlan", backendData: { VNI: 1, VtepMAC: "c6:d2:32:6f:8f:44" } };
  assert.is(encodeLeaseAttrs(attrs), '{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}');
});

test("encodeLeaseAttrs() keeps a null BackendData (host-gw) and writes IPv6 fields", () => {
  const text = encodeLeaseAttrs({ publicIpv6: parseIp("fc00::1"), backendType: "host-gw", backendData: null, backendV6Data: { x: 1 } });
  assert.is(text, '{"PublicIP":"0.0.0.0","PublicIPv6":"fc00::1","BackendType":"host-gw","BackendData":null,"BackendV6Data":{"x":1}}');
});

test("decodeLeaseAttrs() round-trips encodeLeaseAttrs() and matches field names case-insensitively", () => {
  const attrs = { publicIp: parseIp("10.0.0.1"), publicIpv6: parseIp("fc00::1"), backendType: "vxlan", backendData: { VNI: 1 } };
  assert.equal(decodeLeaseAttrs(encodeLeaseAttrs(attrs)), attrs);
  assert.equal(decodeLeaseAttrs('{"publicip":"10.0.0.2","backendtype":"udp"}'), { publicIp: parseIp("10.0.0.2"), backendType: "udp" });
  assert.equal(decodeLeaseAttrs('{"PublicIP":"0.0.0.0","PublicIPv6":"fc00::2"}'), { publicIpv6: parseIp("fc00::2") });
});

test("decodeLeaseAttrs() throws SyntaxError for non-objects and bad addresses", () => {
  for (const bad of ["[]", "null", "1", '{"PublicIP":"fc00::1"}', '{"PublicIP":"1.2.3"}', '{"PublicIPv6":"1.2.3.4"}', '{"BackendType":3}', "{"]) {
    assert.throws(() => decodeLeaseAttrs(bad), SyntaxError, bad);
  }
});

test.run();
