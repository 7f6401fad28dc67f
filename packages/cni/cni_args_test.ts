import { test } from "uvu";
import * as assert from "uvu/assert";
import { cniArg, parseCniArgs } from "./cni_args.ts";

test("parseCniArgs() reads the pairs a Kubernetes runtime sends", () => {
  const args = parseCniArgs("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc");
  assert.is(cniArg(args, "K8S_POD_NAME"), "web-0");
  assert.is(args.length, 4);
});

test("parseCniArgs() is empty for an unset or empty variable", () => {
  assert.equal(parseCniArgs(undefined), []);
  assert.equal(parseCniArgs(""), []);
});

test("parseCniArgs() refuses an unknown key without IgnoreUnknown, with code 4 naming it", () => {
  try {
    parseCniArgs("FOO=bar");
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: number }).code, 4);
    assert.match((err as Error).message, /CNI_ARGS: unknown key "FOO"/);
  }
  assert.equal(parseCniArgs("IgnoreUnknown=true;FOO=bar"), [["IgnoreUnknown", "true"], ["FOO", "bar"]]);
});

test("parseCniArgs() refuses a pair that does not split into exactly two parts", () => {
  assert.throws(() => parseCniArgs("IgnoreUnknown=1;A=b=c"), /invalid pair "A=b=c"/);
  assert.throws(() => parseCniArgs("IgnoreUnknown=1;novalue"), /invalid pair "novalue"/);
});

test.run();
