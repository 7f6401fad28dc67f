import { suite } from "uvu";
import * as assert from "uvu/assert";
import { conformance, sessionConformance } from "./_conformance.ts";
import { Batch } from "./batch.ts";
import { FakeIpRoute } from "./fake_ip_route.ts";
import { FakeIpSession } from "./fake_ip_session.ts";
import type { IpRoute } from "./ip_route.ts";
import type { IpSession } from "./ip_session.ts";

const viaSession = (ip: FakeIpRoute, session: IpSession): IpRoute => {
  (ip as { apply: IpRoute["apply"] }).apply = (b, o) => session.apply(b, o);
  return ip;
};

const fake = suite("FakeIpSession (IpRoute conformance through a session)");
conformance(fake, async (fn) => {
  const host = new FakeIpRoute({ netns: "node1" });
  const session = new FakeIpSession(host.forNetns("node1"));
  const peerNetns = "/proc/4242/ns/net";
  // The session applies to its own FakeIpRoute; reads go through `host` on the same kernel.
  await fn({ ip: viaSession(host, session), peerNetns, peer: host.forNetns(peerNetns) });
});
fake.run();

const scenarios = suite("FakeIpSession (session scenarios)");
sessionConformance(scenarios, async (fn) => {
  const ip = new FakeIpRoute({ netns: "node1" });
  const session = new FakeIpSession(ip.forNetns("node1"));
  await fn({ ip, session, podName: "pod1", pod: ip.forNetns("pod1") });
});

scenarios("FakeIpSession records every job with its next batch", async () => {
  const ip = new FakeIpRoute();
  const session = new FakeIpSession(ip);
  const next = { netns: "pod2", batch: new Batch() };
  await session.apply(new Batch().addLink({ type: "bridge", name: "cni0" }), { next });
  assert.is(session.jobs.length, 1);
  assert.is(session.jobs[0]?.next, next);
  assert.match(ip.dump(), "link cni0 type bridge");
});
scenarios.run();
