import { test } from "uvu";
import * as assert from "uvu/assert";
import { LeaseAcquireError, LeaseConflictError, LeaseLostError } from "./errors.ts";

test("LeaseConflictError carries the key, its name and the cause", () => {
  const cause = new Error("x");
  const e = new LeaseConflictError("10.0.1.0-24", { cause, reason: "the key exists" });
  assert.is(e.name, "LeaseConflictError");
  assert.is(e.key, "10.0.1.0-24");
  assert.is(e.cause, cause);
  assert.is(e.message, "Cannot write lease 10.0.1.0-24: the key exists");
});

test("LeaseAcquireError has flannel's text and the attempt count", () => {
  const e = new LeaseAcquireError(10);
  assert.is(e.message, "max retries reached trying to acquire a subnet");
  assert.is(e.attempts, 10);
  assert.is(e.name, "LeaseAcquireError");
});

test("LeaseLostError names the key", () => {
  const e = new LeaseLostError("10.0.1.0-24");
  assert.instance(e, Error);
  assert.is(e.name, "LeaseLostError");
  assert.match(e.message, /10\.0\.1\.0-24/);
});

test.run();
