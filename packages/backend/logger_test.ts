import { test } from "uvu";
import * as assert from "uvu/assert";
import pino from "pino";
import { noopLogger } from "./logger.ts";
import type { Logger } from "./types.ts";

test("noopLogger accepts every level without output", () => {
  for (const level of ["debug", "info", "warn", "error"] as const) {
    assert.is(noopLogger[level]({ a: 1 }, "message"), undefined);
  }
  assert.ok(Object.isFrozen(noopLogger));
});

test("Logger is satisfied by a pino logger", () => {
  const lines: string[] = [];
  const log: Logger = pino({ level: "debug" }, { write: (s: string) => lines.push(s) });
  log.info({ peer: "10.244.2.0/24" }, "added");
  assert.is(lines.length, 1);
  assert.match(lines[0] ?? "", /"peer":"10.244.2.0\/24".*"msg":"added"/);
});

test.run();
