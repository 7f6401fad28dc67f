import { test } from "uvu";
import * as assert from "uvu/assert";
import { nextIp } from "./next_ip.ts";
import { parseIp } from "./parse_ip.ts";

test("nextIp() steps across octet and group boundaries", () => {
  assert.is(nextIp(parseIp("10.0.0.255")).address, "10.0.1.0");
  assert.is(nextIp(parseIp("10.0.0.1"), { by: 256 }).address, "10.0.1.1");
  assert.is(nextIp(parseIp("10.0.1.0"), { by: -1 }).address, "10.0.0.255");
  assert.is(nextIp(parseIp("2001:db8::ffff")).address, "2001:db8::1:0");
  assert.is(nextIp(parseIp("fc00::"), { by: 1n << 64n }).address, "fc00:0:0:1::");
});

test("nextIp() throws RangeError instead of wrapping around", () => {
  assert.throws(() => nextIp(parseIp("255.255.255.255")), (e: unknown) => e instanceof RangeError);
  assert.throws(() => nextIp(parseIp("0.0.0.0"), { by: -1 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => nextIp(parseIp("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), (e: unknown) => e instanceof RangeError);
  assert.throws(() => nextIp(parseIp("10.0.0.1"), { by: 0.5 }), (e: unknown) => e instanceof RangeError);
});

test.run();
