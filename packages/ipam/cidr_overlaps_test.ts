import { test } from "uvu";
import * as assert from "uvu/assert";
import { cidrOverlaps } from "./cidr_overlaps.ts";
import { parseCidr } from "./parse_cidr.ts";

const c = (t: string) => parseCidr(t);

test("cidrOverlaps() is true when one contains the other, either way", () => {
  assert.ok(cidrOverlaps(c("10.0.0.0/8"), c("10.3.1.0/24")));
  assert.ok(cidrOverlaps(c("10.3.1.0/24"), c("10.0.0.0/8")));
  assert.ok(cidrOverlaps(c("10.3.1.0/24"), c("10.3.1.0/24")));
  assert.ok(cidrOverlaps(c("fc00::/48"), c("fc00:0:0:5::/64")));
});

test("cidrOverlaps() is false for disjoint blocks and across families", () => {
  assert.not.ok(cidrOverlaps(c("10.3.1.0/24"), c("10.3.2.0/24")));
  assert.not.ok(cidrOverlaps(c("10.3.0.0/25"), c("10.3.0.128/25")));
  assert.not.ok(cidrOverlaps(c("0.0.0.0/0"), c("::/0")));
});

test.run();
