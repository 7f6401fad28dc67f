import { test } from "uvu";
import * as assert from "uvu/assert";
import { FrameReader, decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "./frame.ts";

test("encodeRequest() and decodeRequest() round-trip env and stdin", () => {
  const req = { env: { CNI_COMMAND: "ADD", CNI_ARGS: "A=b;C=d" }, stdin: '{"name":"n","x":"ü"}' };
  const frame = encodeRequest(req);
  assert.is(frame.readUInt32BE(0), frame.length - 4);
  assert.equal(decodeRequest(frame.subarray(4)), req);
});

test("decodeRequest() reads an empty environment and empty stdin", () => {
  assert.equal(decodeRequest(Buffer.from([0])), { env: {}, stdin: "" });
});

test("decodeRequest() refuses an unterminated environment block", () => {
  assert.throws(() => decodeRequest(Buffer.from("CNI_COMMAND=ADD")), (e: unknown) => e instanceof SyntaxError);
  assert.throws(() => decodeRequest(Buffer.from("NOEQUALS\0\0")), /has no KEY=/);
});

test("encodeResponse() and decodeResponse() round-trip exit code, stdout and stderr", () => {
  const res = { exitCode: 1, stdout: '{"code":11}', stderr: "log line\n" };
  const frame = encodeResponse(res);
  assert.is(frame.readUInt32BE(0), frame.length - 4);
  assert.equal(decodeResponse(frame.subarray(4)), res);
});

test("FrameReader.push() returns the body only once every byte arrived", () => {
  const frame = encodeResponse({ exitCode: 0, stdout: "x".repeat(100), stderr: "" });
  const r = new FrameReader();
  assert.is(r.push(frame.subarray(0, 2)), undefined);
  assert.is(r.push(frame.subarray(2, 50)), undefined);
  const body = r.push(frame.subarray(50));
  assert.ok(body);
  assert.is(decodeResponse(body!).stdout.length, 100);
});

test("FrameReader.push() refuses an oversized frame", () => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(0xffffffff);
  assert.throws(() => new FrameReader().push(head), (e: unknown) => e instanceof RangeError);
});

test.run();
