import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, withNetns } from "@weft/testutils";
import { pingOnce, readSubnetEnvFile, subnetOf } from "./overlay_state.ts";

const unit = suite("overlay_state");

unit("subnetOf() gives the network of an address with prefix", () => {
  assert.is(subnetOf("10.244.7.1/24"), "10.244.7.0/24");
  assert.is(subnetOf("10.244.7.130/25"), "10.244.7.128/25");
  assert.is(subnetOf("192.168.3.4/0"), "0.0.0.0/0");
});

unit("readSubnetEnvFile() reads flannel's subnet.env", () => {
  const dir = mkdtempSync(join(tmpdir(), "wtb-os-"));
  try {
    writeFileSync(join(dir, "s.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
    assert.equal(readSubnetEnvFile(join(dir, "s.env")), { FLANNEL_NETWORK: "10.244.0.0/16", FLANNEL_SUBNET: "10.244.7.1/24", FLANNEL_MTU: "1450", FLANNEL_IPMASQ: "true" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

unit.run();

const kernel = kernelTest(suite("overlay_state (kernel)"), { needs: ["root", "ip"] });

kernel("pingOnce() is true for an address that answers and false for one that does not", async () => {
  await withNetns("wtbos", async (ns) => {
    assert.ok(await pingOnce(ns, "127.0.0.1"));
    assert.not.ok(await pingOnce(ns, "192.0.2.77"));
  });
});

kernel.run();
