import { test } from "uvu";
import * as assert from "uvu/assert";
import { createAgentMetrics } from "./agent_metrics.ts";

test("createAgentMetrics() exposes the agent's metrics in the text format", async () => {
  const m = createAgentMetrics({ processMetrics: false });
  m.leaseInfo.set({ subnet: "10.244.1.0/24", backend: "vxlan" }, 1);
  m.peers.set(2);
  m.reconcileDuration.observe({ trigger: "added" }, 0.004);
  m.kernelErrors.inc({ subsystem: "ip" });
  m.cniRequestDuration.observe({ command: "ADD", code: "0" }, 0.003);
  const text = await m.registry.metrics();
  assert.match(text, 'weft_lease_info{subnet="10.244.1.0/24",backend="vxlan"} 1');
  assert.match(text, "weft_peers 2");
  assert.match(text, 'weft_reconcile_duration_seconds_count{trigger="added"} 1');
  assert.match(text, 'weft_kernel_operation_errors_total{subsystem="ip"} 1');
  assert.match(text, 'weft_cni_request_duration_seconds_bucket{le="0.005",command="ADD",code="0"} 1');
});

test("createAgentMetrics() gives each agent its own registry", async () => {
  const a = createAgentMetrics({ processMetrics: false });
  const b = createAgentMetrics({ processMetrics: false });
  a.peers.set(5);
  assert.match(await b.registry.metrics(), "weft_peers 0");
});

test.run();
