import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, withNetns } from "@weft/testutils";
import { CniCallError, podNetworkConfig, resultIpv4, runCni } from "./pod.ts";
import { weftdPaths } from "./weftd_process.ts";

const unit = suite("pod");

unit("podNetworkConfig() points the weft plugin at one node's subnet.env, socket and CNI dirs", () => {
  const paths = weftdPaths("/tmp/wtb-x", "node2");
  const conf = podNetworkConfig(paths);
  assert.equal(conf, {
    cniVersion: "1.0.0",
    name: "cbr0",
    type: "weft",
    bridge: "cni0",
    hairpinMode: true,
    isDefaultGateway: true,
    subnetFile: "/tmp/wtb-x/node2/subnet.env",
    dataDir: "/tmp/wtb-x/node2/cni-networks",
    stateDir: "/tmp/wtb-x/node2/cni-state",
    weftSocketPath: "/tmp/wtb-x/node2/run/cni.sock",
  });
});

unit("resultIpv4() takes the first IPv4 address of a CNI result and rejects a result without one", () => {
  const r = resultIpv4({ ips: [{ address: "fd00::2/64" }, { address: "10.244.3.5/24", gateway: "10.244.3.1" }] });
  assert.equal(r, { cidr: "10.244.3.5/24", ip: "10.244.3.5", gateway: "10.244.3.1" });
  assert.throws(() => resultIpv4({ ips: [] }), /no IPv4 address/);
});

unit.run();

const kernel = kernelTest(suite("pod (kernel)"), { needs: ["root", "ip"] });

kernel("runCni() runs the real binary in the node namespace; no server → CniCallError with CNI code 11", async () => {
  await withNetns("wtbpod", async (ns) => {
    await withNetns("wtbpodp", async (podNs) => {
      const paths = weftdPaths("/nonexistent-wtb", "node1");
      try {
        await runCni(ns, { command: "ADD", containerId: "c1", podNetns: podNs, paths });
        assert.unreachable("ADD without a server must fail");
      } catch (err) {
        assert.instance(err, CniCallError);
        assert.is((err as CniCallError).code, 11);
        assert.match((err as Error).message, "/nonexistent-wtb/node1/run/cni.sock");
      }
    });
  });
});

kernel.run();
