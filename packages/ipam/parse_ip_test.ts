import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { compareIp } from "./compare_ip.ts";
import { nextIp } from "./next_ip.ts";
import { canParseIp, parseIp, tryParseIp } from "./parse_ip.ts";

test("parseIp() returns the canonical form of IPv4 and IPv6 addresses", () => {
  assert.equal(parseIp("10.244.1.5"), { family: 4, address: "10.244.1.5" });
  assert.equal(parseIp("0.0.0.0"), { family: 4, address: "0.0.0.0" });
  assert.equal(parseIp("255.255.255.255"), { family: 4, address: "255.255.255.255" });
  assert.equal(parseIp("2001:0DB8:0000:0000:0000:0000:0000:0001"), { family: 6, address: "2001:db8::1" });
  assert.equal(parseIp("fc00:0:0:1::"), { family: 6, address: "fc00:0:0:1::" });
  assert.equal(parseIp("2001:db8:0:1:1:1:1:1"), { family: 6, address: "2001:db8:0:1:1:1:1:1" });
  assert.equal(parseIp("::"), { family: 6, address: "::" });
  assert.equal(parseIp("::ffff:10.0.0.1").family, 6);
});

test("parseIp() compresses the longest zero run first, as Go's net.IP.String()", () => {
  assert.is(parseIp("2001:db8:0:0:1:0:0:1").address, "2001:db8::1:0:0:1");
  assert.is(parseIp("2001:0:0:1:0:0:0:1").address, "2001:0:0:1::1");
  assert.is(parseIp("2001:db8:0:1:0:1:0:1").address, "2001:db8:0:1:0:1:0:1");
});

test("parseIp() rejects leading zeros, short forms, junk and zones with a SyntaxError naming the input", () => {
  for (const bad of ["010.0.0.1", "10.0.0.01", "10.1", "10.0.0", "0x0a.0.0.1", "1.2.3.256", " 1.2.3.4", "1.2.3.4\n", "", "abc",
    "1.2.3.4/24", "fe80::1%eth0", "::1.2.3.04", "1::2::3", "12345::1", "1:2:3:4:5:6:7:8:9", "::g"]) {
    assert.throws(() => parseIp(bad), (err: Error) => err instanceof SyntaxError && err.message.includes(JSON.stringify(bad)), bad);
    assert.is(tryParseIp(bad), undefined, bad);
    assert.is(canParseIp(bad), false, bad);
  }
  assert.match((() => { try { parseIp("010.0.0.1"); } catch (e) { return (e as Error).message; } return ""; })(), /leading zeros/);
});

test("tryParseIp() and canParseIp() accept what parseIp() accepts", () => {
  assert.equal(tryParseIp("10.0.0.1"), { family: 4, address: "10.0.0.1" });
  assert.ok(canParseIp("::1"));
});


test("parseIp() agrees with ipaddr.js on random IPv6 addresses in every spelling", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (parts) => {
      const ref = new ipaddr.IPv6(parts);
      const canonical = ref.toRFC5952String();
      assert.is(parseIp(canonical).address, canonical);
      assert.is(parseIp((ref as unknown as { toFixedLengthString(): string }).toFixedLengthString()).address, canonical);
      assert.is(parseIp(ref.toNormalizedString()).address, canonical);
      // arithmetic goes through the private bigint conversion: one step forward and back is the identity
      const ip = parseIp(canonical);
      if (canonical !== "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") {
        const next = nextIp(ip);
        assert.is(compareIp(next, ip), 1);
        assert.is(nextIp(next, { by: -1 }).address, canonical);
      }
    }),
    { numRuns: 2000 },
  );
});

test("parseIp() reads embedded IPv4 tails", () => {
  assert.is(parseIp("::ffff:10.0.0.1").address, "::ffff:a00:1");
  assert.is(nextIp(parseIp("64:ff9b::192.0.2.33")).address, "64:ff9b::c000:222");
});

test.run();
