import { test } from "uvu";
import * as assert from "uvu/assert";
import { KeyedLock } from "./_keyed_lock.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("KeyedLock.run() serialises calls with the same key", async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const a = lock.run("k", async () => (order.push("a1"), await sleep(20), order.push("a2")));
  const b = lock.run("k", async () => (order.push("b1"), await sleep(1), order.push("b2")));
  await Promise.all([a, b]);
  assert.equal(order, ["a1", "a2", "b1", "b2"]);
  assert.is(lock.size, 0);
});

test("KeyedLock.run() runs different keys in parallel and survives a throwing call", async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const a = lock.run("x", async () => (await sleep(20), order.push("x")));
  const b = lock.run("y", async () => order.push("y"));
  const c = lock.run("y", async () => {
    throw new Error("boom");
  }).catch((e: Error) => order.push(e.message));
  const d = lock.run("y", async () => order.push("y2"));
  await Promise.all([a, b, c, d]);
  assert.equal(order, ["y", "boom", "y2", "x"]);
});

test.run();
