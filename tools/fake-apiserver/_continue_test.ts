import { test } from "uvu";
import * as assert from "uvu/assert";
import { ContinueTokenError, decodeContinue, encodeContinue } from "./_continue.ts";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64url");
const reason = (token: string) => {
  try {
    decodeContinue(token);
    return "ok";
  } catch (err) {
    assert.instance(err, ContinueTokenError);
    return (err as Error).message;
  }
};

test("encodeContinue() writes kube-apiserver's token: unpadded base64url of {v, rv, start}", () => {
  const token = encodeContinue("ns/web\u0000", 42);
  assert.not.match(token, /[=+/]/);
  assert.equal(JSON.parse(Buffer.from(token, "base64url").toString("utf8")), { v: "meta.k8s.io/v1", rv: 42, start: "ns/web\u0000" });
  assert.equal(decodeContinue(token), { rv: 42, start: "ns/web\u0000" });
  assert.equal(decodeContinue(encodeContinue("/n1\u0000", -1)), { rv: -1, start: "n1\u0000" }, "a leading / is dropped");
});

test("decodeContinue() rejects what DecodeContinue rejects, with its messages", () => {
  assert.is(reason("abc!"), "continue key is not valid: illegal base64 data at input byte 3");
  assert.is(reason("abcde"), "continue key is not valid: illegal base64 data at input byte 4");
  assert.match(reason(b64("not json")), /^continue key is not valid: /);
  assert.match(reason(b64("[1]")), /cannot unmarshal array/);
  assert.is(reason(b64('{"v":"v2","rv":1,"start":"a"}')), "continue key is not valid: server does not recognize this encoded version v2");
  assert.is(reason(b64('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}')), "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  assert.is(reason(b64('{"v":"meta.k8s.io/v1","rv":3,"start":""}')), "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
  assert.match(reason(b64('{"v":"meta.k8s.io/v1","rv":"3","start":"a"}')), /rv of type int64/);
  for (const start of ["../x", "a/../b", "a//b", "a/", "./a"]) {
    assert.is(reason(b64(JSON.stringify({ v: "meta.k8s.io/v1", rv: 3, start }))), `continue key is not valid: ${start}`, start);
  }
  assert.is(reason(b64('{"v":"meta.k8s.io/v1","rv":3,"start":"ns/a.b"}')), "ok");
});

test.run();
