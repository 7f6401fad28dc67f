import { test } from "uvu";
import * as assert from "uvu/assert";
import { PeerError } from "./peer_error.ts";

test("PeerError carries the subnet, a prefixed message and the cause", () => {
  const cause = new Error("network is unreachable");
  const err = new PeerError("10.244.2.0/24", "gateway 10.0.0.9 is not on this node's L2 network", { cause });
  assert.is(err.name, "PeerError");
  assert.is(err.subnet, "10.244.2.0/24");
  assert.is(err.message, "Peer 10.244.2.0/24: gateway 10.0.0.9 is not on this node's L2 network");
  assert.is(err.cause, cause);
  assert.ok(err instanceof Error);
});

test.run();
