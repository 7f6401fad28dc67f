import { test } from "uvu";
import * as assert from "uvu/assert";
import { BatchError, classifyStderr, IpRouteError, isExists, isNotFound, isUnreachable } from "./ip_route_error.ts";

test("classifyStderr() maps iproute2's messages to kinds", () => {
  const cases: Array<[string, string]> = [
    ['Cannot find device "ghost"', "NotFound"],
    ['Error: argument "nope" is wrong: Device does not exist', "NotFound"],
    ["RTNETLINK answers: No such process", "NotFound"],
    ["Error: ipv4: Address not found.", "NotFound"],
    ["RTNETLINK answers: File exists", "Exists"],
    ["Error: ipv4: Address already assigned.", "Exists"],
    ["Error: Nexthop has invalid gateway.", "Unreachable"],
    ["RTNETLINK answers: Network is unreachable", "Unreachable"],
    ["Error: Nexthop device is not up.", "Unreachable"],
    ["RTNETLINK answers: Operation not permitted", "Permission"],
    ["RTNETLINK answers: Operation not supported", "Unsupported"],
    ["Error: mtu less than device minimum.", "Invalid"],
    ["something odd", "Failed"],
  ];
  for (const [stderr, kind] of cases) assert.is(classifyStderr(stderr), kind, stderr);
});

test("predicates test the kind and reject other errors", () => {
  const nf = new IpRouteError("NotFound", "link set dev x up", 'Cannot find device "x"', { device: "x", netns: "n1" });
  assert.ok(isNotFound(nf));
  assert.not.ok(isExists(nf));
  assert.not.ok(isUnreachable(nf));
  assert.not.ok(isNotFound(new Error("Cannot find device")));
  assert.is(nf.message, 'Cannot link set dev x up (device x, netns n1): Cannot find device "x"');
  assert.is(nf.name, "IpRouteError");
});

test("BatchError takes the kind of its first failure and counts the rest", () => {
  const a = new IpRouteError("Unreachable", "route add 10.0.0.0/8 via 1.2.3.4", "Nexthop has invalid gateway", { index: 1, stderr: "Error: Nexthop has invalid gateway." });
  const b = new IpRouteError("NotFound", "link set dev y up", "Cannot find device", { index: 3 });
  const err = new BatchError([a, b], 5);
  assert.ok(isUnreachable(err));
  assert.is(err.index, 1);
  assert.is(err.name, "BatchError");
  assert.match(err.message, /and 1 more of 5 operations failed/);
  assert.throws(() => new BatchError([], 1), (e: unknown) => e instanceof RangeError);
});

test("predicates recognise an IpRouteError from another copy of the module (built mod.js vs testing.js)", () => {
  const foreign = Object.defineProperty({ name: "IpRouteError", kind: "NotFound", message: "x" }, Symbol.for("@weft/iproute.IpRouteError"), { value: true });
  assert.ok(isNotFound(foreign));
  assert.not.ok(isNotFound({ name: "IpRouteError", kind: "NotFound" }), "an unbranded look-alike is not one");
});

test.run();
