import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_DATA_DIR, DEFAULT_SUBNET_FILE, parseWeftNetConf } from "./weft_net_conf.ts";

test("parseWeftNetConf() applies flannel's defaults", () => {
  const c = parseWeftNetConf({ cniVersion: "0.3.1", name: "cbr0", type: "weft" });
  assert.is(c.bridge, "cni0");
  assert.is(c.isGateway, true);
  assert.is(c.isDefaultGateway, false);
  assert.is(c.hairpinMode, true);
  assert.is(c.mtu, undefined);
  assert.is(c.ipMasq, undefined);
  assert.is(c.subnetFile, DEFAULT_SUBNET_FILE);
  assert.is(c.dataDir, DEFAULT_DATA_DIR);
  assert.equal(c.routes, []);
});

test("parseWeftNetConf() reads overrides and ipam.routes/dataDir for flannel-style configs", () => {
  const c = parseWeftNetConf({
    cniVersion: "1.0.0", name: "n", bridge: "br9", isDefaultGateway: true, isGateway: false, mtu: 1400, ipMasq: true,
    ipam: { routes: [{ dst: "10.96.0.0/12" }], dataDir: "/tmp/x" },
  });
  assert.is(c.bridge, "br9");
  assert.is(c.isGateway, true, "isDefaultGateway forces isGateway");
  assert.is(c.mtu, 1400);
  assert.is(c.ipMasq, true);
  assert.is(c.dataDir, "/tmp/x");
  assert.equal(c.routes, [{ dst: "10.96.0.0/12" }]);
});

test("parseWeftNetConf() refuses wrong types with code 7 naming the field", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ mtu: "1450" }, /"mtu" must be an integer/],
    [{ hairpinMode: "yes" }, /"hairpinMode" must be a boolean/],
    [{ bridge: "a/b" }, /"bridge" is not a valid interface name/],
    [{ routes: [{ gw: "1.2.3.4" }] }, /"routes\[0\]\.dst" must be a CIDR/],
    [{ subnetFile: 3 }, /"subnetFile" must be a non-empty string/],
  ];
  for (const [extra, re] of cases) {
    try {
      parseWeftNetConf({ cniVersion: "1.0.0", name: "n", ...extra });
      assert.unreachable();
    } catch (err) {
      assert.is((err as { code: number }).code, 7);
      assert.match((err as Error).message, re);
    }
  }
});

test.run();
