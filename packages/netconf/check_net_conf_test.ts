import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import { checkNetConf } from "./check_net_conf.ts";
import { NetConfError } from "./net_conf_error.ts";
import type { NetConf } from "./types.ts";

const base: NetConf = {
  network: undefined,
  subnetLen: 0,
  subnetMin: undefined,
  subnetMax: undefined,
  enableIPv4: true,
  enableIPv6: false,
  ipv6Network: undefined,
  ipv6SubnetLen: 0,
  ipv6SubnetMin: undefined,
  ipv6SubnetMax: undefined,
  enableNFTables: false,
  backendType: "vxlan",
  backend: { Type: "vxlan" },
};

function v4(network: string, more: Partial<NetConf> = {}): NetConf {
  return { ...base, network: parseCidr(network), ...more };
}
function v6(network: string, more: Partial<NetConf> = {}): NetConf {
  return { ...base, enableIPv4: false, enableIPv6: true, ipv6Network: parseCidr(network), ...more };
}

function throwsNetConf(fn: () => unknown, message: string, field: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, NetConfError);
    assert.is((err as NetConfError).message, message);
    assert.is((err as NetConfError).field, field);
    return;
  }
  assert.unreachable(`expected NetConfError ${message}`);
}

test("checkNetConf() defaults SubnetLen to 24 for a /22 or larger network", () => {
  const out = checkNetConf(v4("10.0.0.0/22"));
  assert.is(out.subnetLen, 24);
  assert.is(out.subnetMin?.address, "10.0.1.0");
  assert.is(out.subnetMax?.address, "10.0.3.0");
});

test("checkNetConf() defaults SubnetLen to prefix+2 for networks /23 to /28", () => {
  assert.is(checkNetConf(v4("10.0.0.0/23")).subnetLen, 25);
  const out = checkNetConf(v4("10.0.0.0/28"));
  assert.is(out.subnetLen, 30);
  assert.is(out.subnetMin?.address, "10.0.0.4");
  assert.is(out.subnetMax?.address, "10.0.0.12");
});

test("checkNetConf() does not change its input", () => {
  const input = v4("10.3.0.0/16");
  checkNetConf(input);
  assert.is(input.subnetLen, 0);
  assert.is(input.subnetMin, undefined);
});

test("checkNetConf() treats 0.0.0.0 SubnetMin/SubnetMax as unset, like flannel", () => {
  const out = checkNetConf(v4("10.3.0.0/16", { subnetMin: parseIp("0.0.0.0"), subnetMax: parseIp("0.0.0.0") }));
  assert.is(out.subnetMin?.address, "10.3.1.0");
  assert.is(out.subnetMax?.address, "10.3.255.0");
});

test("checkNetConf() keeps explicit in-range aligned values", () => {
  const out = checkNetConf(v4("10.3.0.0/16", { subnetLen: 28, subnetMin: parseIp("10.3.5.0"), subnetMax: parseIp("10.3.8.0") }));
  assert.is(out.subnetLen, 28);
  assert.is(out.subnetMin?.address, "10.3.5.0");
  assert.is(out.subnetMax?.address, "10.3.8.0");
});

test("checkNetConf() last subnet of the top of the address space does not wrap", () => {
  const out = checkNetConf(v4("240.0.0.0/4"));
  assert.is(out.subnetMax?.address, "255.255.255.0");
  const out6 = checkNetConf(v6("ffff::/16"));
  assert.is(out6.ipv6SubnetMax?.address, "ffff:ffff:ffff:ffff::");
});

test("checkNetConf() skips a disabled family entirely", () => {
  const out = checkNetConf({ ...base, enableIPv4: false });
  assert.is(out.network, undefined);
  assert.is(out.subnetLen, 0);
});

// Every IPv4 error of flannel's CheckNetworkConfig, with its exact text.
test("checkNetConf() IPv4 error messages are flannel's", () => {
  throwsNetConf(() => checkNetConf(base), "please define a correct Network parameter in the flannel config", "network");
  throwsNetConf(() => checkNetConf(v4("0.0.0.0/0")), "please define a correct Network parameter in the flannel config", "network");
  throwsNetConf(() => checkNetConf(v4("10.0.0.0/8", { subnetLen: 31 })), "SubnetLen must be less than /31", "subnetLen");
  throwsNetConf(() => checkNetConf(v4("10.0.0.0/8", { subnetLen: 9 })), "network must be able to accommodate at least four subnets", "subnetLen");
  throwsNetConf(() => checkNetConf(v4("10.0.0.0/29")), "network is too small. Minimum useful network prefix is /28", "network");
  throwsNetConf(() => checkNetConf(v4("10.3.0.0/16", { subnetMin: parseIp("10.4.0.0") })), "SubnetMin is not in the range of the Network", "subnetMin");
  throwsNetConf(() => checkNetConf(v4("10.3.0.0/16", { subnetMax: parseIp("10.2.0.0") })), "SubnetMax is not in the range of the Network", "subnetMax");
  throwsNetConf(() => checkNetConf(v4("10.3.0.0/16", { subnetMin: parseIp("10.3.1.1") })), "SubnetMin is not on a SubnetLen boundary: 10.3.1.1", "subnetMin");
  throwsNetConf(() => checkNetConf(v4("10.3.0.0/16", { subnetMax: parseIp("10.3.9.128") })), "SubnetMax is not on a SubnetLen boundary: 10.3.9.128", "subnetMax");
});

test("checkNetConf() accepts the smallest SubnetLen (prefix+2) and the largest (/30)", () => {
  assert.is(checkNetConf(v4("10.0.0.0/8", { subnetLen: 10 })).subnetLen, 10);
  assert.is(checkNetConf(v4("10.0.0.0/8", { subnetLen: 30 })).subnetMax?.address, "10.255.255.252");
});

test("checkNetConf() IPv6 defaults follow flannel (/64 up to /62, else prefix+2)", () => {
  const out = checkNetConf(v6("fc00::/48"));
  assert.is(out.ipv6SubnetLen, 64);
  assert.is(out.ipv6SubnetMin?.address, "fc00:0:0:1::");
  assert.is(out.ipv6SubnetMax?.address, "fc00:0:0:ffff::");
  assert.is(checkNetConf(v6("fc00::/62")).ipv6SubnetLen, 64);
  assert.is(checkNetConf(v6("fc00::/63")).ipv6SubnetLen, 65);
  assert.is(checkNetConf(v6("fc00::/124")).ipv6SubnetLen, 126);
});

test("checkNetConf() IPv6 error messages are flannel's (SubnetLen quirk included)", () => {
  throwsNetConf(() => checkNetConf({ ...base, enableIPv4: false, enableIPv6: true }), "please define a correct IPv6Network parameter in the flannel config", "ipv6Network");
  throwsNetConf(() => checkNetConf(v6("::/0")), "please define a correct IPv6Network parameter in the flannel config", "ipv6Network");
  throwsNetConf(() => checkNetConf(v6("fc00::/48", { ipv6SubnetLen: 127 })), "SubnetLen must be less than /127", "ipv6SubnetLen");
  throwsNetConf(() => checkNetConf(v6("fc00::/48", { ipv6SubnetLen: 49 })), "network must be able to accommodate at least four subnets", "ipv6SubnetLen");
  throwsNetConf(() => checkNetConf(v6("fc00::/125")), "IPv6Network is too small. Minimum useful network prefix is /124", "ipv6Network");
  throwsNetConf(() => checkNetConf(v6("fc00::/48", { ipv6SubnetMin: parseIp("fc01::") })), "IPv6SubnetMin is not in the range of the IPv6Network", "ipv6SubnetMin");
  throwsNetConf(() => checkNetConf(v6("fc00::/48", { ipv6SubnetMax: parseIp("fb00::") })), "IPv6SubnetMax is not in the range of the IPv6Network", "ipv6SubnetMax");
  throwsNetConf(() => checkNetConf(v6("fc00::/48", { ipv6SubnetMin: parseIp("fc00:0:0:1::1") })), "IPv6SubnetMin is not on a SubnetLen boundary: fc00:0:0:1::1", "ipv6SubnetMin");
  throwsNetConf(() => checkNetConf(v6("fc00::/48", { ipv6SubnetMax: parseIp("fc00:0:0:2:8000::") })), "IPv6SubnetMax is not on a SubnetLen boundary: fc00:0:0:2:8000::", "ipv6SubnetMax");
});

test("checkNetConf() checks IPv4 before IPv6 in a dual-stack config", () => {
  throwsNetConf(() => checkNetConf({ ...base, enableIPv6: true }), "please define a correct Network parameter in the flannel config", "network");
  const out = checkNetConf(v4("10.0.0.0/16", { enableIPv6: true, ipv6Network: parseCidr("fd00::/56") }));
  assert.is(out.subnetLen, 24);
  assert.is(out.ipv6SubnetLen, 64);
  assert.is(out.ipv6SubnetMin?.address, "fd00:0:0:1::");
  assert.is(out.ipv6SubnetMax?.address, "fd00:0:0:ff::");
});

test.run();
