import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr } from "@weft/ipam";
import { checkNetConf } from "@weft/netconf";
import { sampleNetConf } from "./sample_net_conf.ts";

test("sampleNetConf() is a checked 10.244.0.0/16 config with /24 subnets for the given backend", () => {
  const conf = sampleNetConf("host-gw");
  assert.is(conf.network?.address, "10.244.0.0");
  assert.is(conf.network?.prefixLength, 16);
  assert.is(conf.subnetLen, 24);
  assert.is(conf.backendType, "host-gw");
  assert.equal(conf.backend, { Type: "host-gw" });
  assert.equal([conf.enableIPv4, conf.enableIPv6, conf.enableNFTables], [true, false, false]);
  assert.is(checkNetConf(conf).subnetMax?.address, "10.244.255.0");
});

test("sampleNetConf() replaces whole fields from overrides and returns a fresh object each time", () => {
  const conf = sampleNetConf("vxlan", { network: parseCidr("10.0.0.0/8"), enableIPv6: true });
  assert.is(conf.network?.prefixLength, 8);
  assert.is(conf.enableIPv6, true);
  assert.is(conf.backendType, "vxlan");
  assert.is.not(sampleNetConf("vxlan"), sampleNetConf("vxlan"));
});

test.run();
