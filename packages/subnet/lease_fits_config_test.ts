import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import { leaseFitsConfig } from "./lease_fits_config.ts";

const conf = parseNetConf(`{ "Network": "10.3.0.0/16", "SubnetMin": "10.3.1.0", "SubnetMax": "10.3.25.0" }`);

test("leaseFitsConfig() accepts subnets between SubnetMin and SubnetMax with SubnetLen", () => {
  assert.ok(leaseFitsConfig({ subnet: parseCidr("10.3.1.0/24") }, conf));
  assert.ok(leaseFitsConfig({ subnet: parseCidr("10.3.25.0/24") }, conf));
});

test("leaseFitsConfig() rejects out-of-range subnets, other lengths and missing IPv4", () => {
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.31.0/24") }, conf));
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.0.0/24") }, conf));
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/25") }, conf));
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.4.1.0/24") }, conf));
  assert.not.ok(leaseFitsConfig({}, conf));
});

test("leaseFitsConfig() requires no IPv6 subnet when IPv6 is off, and a fitting one when it is on", () => {
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/24"), ipv6Subnet: parseCidr("fd00::/64") }, conf));
  const dual = parseNetConf(`{ "Network": "10.3.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00::/48" }`);
  assert.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/24"), ipv6Subnet: parseCidr("fd00:0:0:5::/64") }, dual));
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/24") }, dual));
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/24"), ipv6Subnet: parseCidr("fd00::/64") }, dual), "the first IPv6 subnet is skipped");
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/24"), ipv6Subnet: parseCidr("fd01::/64") }, dual));
  const v6only = parseNetConf(`{ "EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00::/48" }`);
  assert.ok(leaseFitsConfig({ ipv6Subnet: parseCidr("fd00:0:0:5::/64") }, v6only));
  assert.not.ok(leaseFitsConfig({ subnet: parseCidr("10.3.2.0/24"), ipv6Subnet: parseCidr("fd00:0:0:5::/64") }, v6only));
});

test.run();
