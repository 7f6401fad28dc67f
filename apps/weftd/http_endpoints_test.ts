import { test } from "uvu";
import * as assert from "uvu/assert";
import type { AddressInfo } from "node:net";
import { createAgentMetrics } from "./agent_metrics.ts";
import { startHttpEndpoints } from "./http_endpoints.ts";

test("startHttpEndpoints() answers /healthz, /readyz before and after ready, and /metrics", async () => {
  let ready = false;
  const metrics = createAgentMetrics({ processMetrics: false });
  metrics.peers.set(3);
  const server = await startHttpEndpoints(0, { host: "127.0.0.1", isReady: () => ready, metrics: metrics.registry });
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (p: string) => {
      const r = await fetch(base + p);
      return [r.status, await r.text()] as const;
    };
    assert.equal(await get("/healthz"), [200, "weftd is running\n"]);
    assert.equal(await get("/readyz"), [503, "weftd is not ready yet\n"]);
    ready = true;
    assert.equal(await get("/readyz"), [200, "weftd is ready\n"]);
    const [code, text] = await get("/metrics");
    assert.is(code, 200);
    assert.match(text, "weft_peers 3");
    assert.is((await get("/nope"))[0], 404);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test.run();
