import { test } from "uvu";
import * as assert from "uvu/assert";
import { cidrContains } from "./cidr_contains.ts";
import { parseCidr } from "./parse_cidr.ts";
import { parseIp } from "./parse_ip.ts";

const c = (t: string) => parseCidr(t);

test("cidrContains() checks addresses", () => {
  assert.ok(cidrContains(c("10.244.0.0/16"), parseIp("10.244.255.255")));
  assert.ok(cidrContains(c("10.244.0.0/16"), parseIp("10.244.0.0")));
  assert.not.ok(cidrContains(c("10.244.0.0/16"), parseIp("10.245.0.0")));
  assert.ok(cidrContains(c("0.0.0.0/0"), parseIp("1.2.3.4")));
  assert.ok(cidrContains(c("fc00::/48"), parseIp("fc00:0:0:ffff::1")));
  assert.not.ok(cidrContains(c("fc00::/48"), parseIp("fc00:0:1::")));
});

test("cidrContains() checks whole CIDRs (containsCidr)", () => {
  assert.ok(cidrContains(c("10.0.0.0/8"), c("10.1.0.0/16")));
  assert.ok(cidrContains(c("10.0.0.0/8"), c("10.0.0.0/8")));
  assert.not.ok(cidrContains(c("10.1.0.0/16"), c("10.0.0.0/8")));
  assert.not.ok(cidrContains(c("10.1.0.0/16"), c("10.2.0.0/24")));
});

test("cidrContains() is false across families", () => {
  assert.not.ok(cidrContains(c("::/0"), parseIp("10.0.0.1")));
  assert.not.ok(cidrContains(c("0.0.0.0/0"), c("::/0")));
});

test.run();
