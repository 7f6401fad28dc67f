import { test } from "uvu";
import * as assert from "uvu/assert";
import { NftablesError, errorKindOf, isAlreadyExists, isBusy, isInvalid, isNotFound } from "./errors.ts";

test("errorKindOf() sorts nft's messages into kinds", () => {
  assert.is(errorKindOf("Could not process rule: No such file or directory"), "notFound");
  assert.is(errorKindOf("No such file or directory; did you mean chain ‘c0’ in table ip ‘t’?"), "notFound");
  assert.is(errorKindOf("Could not process rule: File exists"), "alreadyExists");
  assert.is(errorKindOf("Could not process rule: Device or resource busy"), "busy");
  assert.is(errorKindOf("syntax error, unexpected fwd, expecting string"), "invalid");
  assert.is(errorKindOf("Could not process rule: Invalid argument"), "invalid");
  assert.is(errorKindOf("Could not process rule: Operation not permitted"), "failed");
  assert.is(errorKindOf("Could not process rule: Too many links"), "failed");
});

test("isNotFound(), isAlreadyExists(), isBusy() and isInvalid() test the kind of an NftablesError only", () => {
  const e = new NftablesError("notFound", "Cannot list table ip t: No such file or directory", { stderr: "x" });
  assert.ok(isNotFound(e));
  assert.not.ok(isAlreadyExists(e));
  assert.ok(isAlreadyExists(new NftablesError("alreadyExists", "m")));
  assert.ok(isBusy(new NftablesError("busy", "m")));
  assert.ok(isInvalid(new NftablesError("invalid", "m")));
  assert.not.ok(isNotFound(new Error("No such file or directory")));
  assert.not.ok(isNotFound(undefined));
  assert.is(e.name, "NftablesError");
  assert.is(e.stderr, "x");
});

test("NftablesError keeps its cause", () => {
  const cause = new Error("spawn nft ENOENT");
  assert.is(new NftablesError("failed", "m", { cause }).cause, cause);
});

test("NftablesError instances from another copy of the module are recognised", () => {
  const foreign = Object.assign(new Error("m"), { kind: "notFound" });
  Object.defineProperty(foreign, Symbol.for("nftables-js.NftablesError"), { value: true });
  assert.ok(foreign instanceof NftablesError);
  assert.ok(isNotFound(foreign));
  assert.not.ok(new Error("m") instanceof NftablesError);
});

test.run();
