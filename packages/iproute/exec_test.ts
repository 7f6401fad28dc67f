import { test } from "uvu";
import * as assert from "uvu/assert";
import { createExec } from "./exec.ts";

test("createExec().run() feeds stdin and returns stdout, stderr and the exit code without rejecting", async () => {
  const exec = createExec();
  const ok = await exec.run(["cat"], { input: "hello\n" });
  assert.equal(ok, { stdout: "hello\n", stderr: "", code: 0 });
  const bad = await exec.run(["ls", "/nonexistent-weft-path"]);
  assert.ok(bad.code !== 0);
  assert.match(bad.stderr, /No such file/);
});

test("createExec().run() rejects when the program is missing or too slow", async () => {
  const exec = createExec();
  await exec.run(["/nonexistent/weft-binary"]).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /Cannot run/));
  await exec.run(["sleep", "5"], { timeoutMs: 100 }).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /within 100 ms/));
});

test("createExec().lines() yields lines and stops the process on abort", async () => {
  const exec = createExec();
  const got: string[] = [];
  for await (const line of exec.lines(["printf", "a\\nb\\n"])) got.push(line);
  assert.equal(got, ["a", "b"]);
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 100);
  for await (const _ of exec.lines(["sleep", "10"], { signal: ac.signal })) assert.unreachable();
  assert.ok(Date.now() - started < 5000);
});

test.run();
