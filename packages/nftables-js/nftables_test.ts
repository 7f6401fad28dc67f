import { test } from "uvu";
import * as assert from "uvu/assert";
import { createNftables, type Exec, type ExecResult, type ExecRunOptions } from "./nftables.ts";
import { Transaction } from "./transaction.ts";
import { isAlreadyExists, isInvalid, isNotFound, NftablesError } from "./errors.ts";

interface Call {
  argv: readonly string[];
  input: string | undefined;
}

/** An Exec that records calls and answers from a list (or a function). */
function recorder(answer: (call: Call) => Partial<ExecResult> = () => ({})): { exec: Exec; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    exec: {
      async run(argv: readonly string[], options: ExecRunOptions = {}) {
        const call = { argv, input: typeof options.input === "function" ? options.input() : options.input };
        calls.push(call);
        return { stdout: "", stderr: "", code: 0, ...answer(call) };
      },
    },
  };
}

test("run() pipes the whole transaction into one `nft -f -`, inside the named namespace via nsenter", async () => {
  const { exec, calls } = recorder();
  const nft = createNftables({ family: "ip", table: "t", netns: "blue", exec });
  const tx = nft.newTransaction().add({ kind: "table" }).add({ kind: "chain", name: "c" });
  await nft.run(tx);
  assert.equal(calls, [{ argv: ["nsenter", "--net=/var/run/netns/blue", "--", "nft", "-f", "-"], input: "add table ip t\nadd chain ip t c\n" }]);
});

test("run() takes a namespace path as is, runs nft directly without netns, and uses nft -c for dryRun", async () => {
  const a = recorder();
  await createNftables({ family: "ip6", table: "t", netns: "/proc/42/ns/net", exec: a.exec }).run(new Transaction("ip6", "t").add({ kind: "table" }));
  assert.equal(a.calls[0]!.argv, ["nsenter", "--net=/proc/42/ns/net", "--", "nft", "-f", "-"]);
  const b = recorder();
  const nft = createNftables({ family: "ip", table: "t", exec: b.exec, nftPath: "/usr/sbin/nft" });
  await nft.run(nft.newTransaction().add({ kind: "table" }), { dryRun: true });
  assert.equal(b.calls[0]!.argv, ["/usr/sbin/nft", "-c", "-f", "-"]);
});

test("run() rejects an invalid transaction before running anything", async () => {
  const { exec, calls } = recorder();
  const nft = createNftables({ family: "ip", table: "t", exec });
  const tx = nft.newTransaction().add({ kind: "table", comment: 'x" ; flush ruleset ; "' });
  await nft.run(tx).then(
    () => assert.unreachable("ran an invalid transaction"),
    (err) => assert.ok(isInvalid(err) && err === tx.error),
  );
  assert.is(calls.length, 0);
});

test("run() does not run nft for an empty transaction and refuses one for another table", async () => {
  const { exec, calls } = recorder();
  const nft = createNftables({ family: "ip", table: "t", exec });
  await nft.run(nft.newTransaction());
  assert.is(calls.length, 0);
  const other = createNftables({ family: "ip", table: "other", exec }).newTransaction().add({ kind: "table" });
  await nft.run(other).then(
    () => assert.unreachable("ran another table's transaction"),
    (err) => assert.match(String(err), /this handle manages ip t/),
  );
});

test("run() maps nft's LINE:COL error back to the failing operation, inside an element block too", async () => {
  const stderr = "/dev/stdin:4:2-8: Error: Could not process rule: No such file or directory\n\t2.2.2.2 : goto nochain,\n\t^^^^^^^\n";
  const { exec } = recorder(() => ({ code: 1, stderr }));
  const nft = createNftables({ family: "ip", table: "t", exec });
  const tx = nft
    .newTransaction()
    .add({ kind: "table" })
    .add({ kind: "element", map: "m", key: ["1.1.1.1"], value: ["accept"] })
    .add({ kind: "element", map: "m", key: ["2.2.2.2"], value: ["goto nochain"] })
    .add({ kind: "element", map: "m", key: ["3.3.3.3"], value: ["drop"] });
  const err = (await nft.run(tx).then(() => undefined, (e: unknown) => e)) as NftablesError;
  assert.ok(isNotFound(err));
  assert.is(err.operationIndex, 2);
  assert.equal(err.operation, tx.operations[2]);
  assert.is(err.message, "Cannot apply operation 2 (add element ip t m { 2.2.2.2 : goto nochain }): Could not process rule: No such file or directory");
  assert.is(err.stderr, stderr);
});

test("run() with atomic: false applies chunks of chunkSize operations, one nft run each, and stops at a failure", async () => {
  let n = 0;
  const { exec, calls } = recorder(() => (++n === 2 ? { code: 1, stderr: "/dev/stdin:1:1-5: Error: Could not process rule: File exists\n" } : {}));
  const nft = createNftables({ family: "ip", table: "t", exec });
  const tx = nft.newTransaction();
  for (let i = 0; i < 7; i++) tx.add({ kind: "chain", name: `c${i}` });
  const err = (await nft.run(tx, { atomic: false, chunkSize: 3 }).then(() => undefined, (e: unknown) => e)) as NftablesError;
  assert.is(calls.length, 2);
  assert.is(calls[1]!.input, "add chain ip t c3\nadd chain ip t c4\nadd chain ip t c5\n");
  assert.ok(isAlreadyExists(err));
  assert.is(err.operationIndex, 3);
  await nft.run(tx, { atomic: false, chunkSize: 0 }).then(
    () => assert.unreachable("chunkSize 0 accepted"),
    (e) => assert.instance(e, RangeError),
  );
});

test("run() reports a missing nft as a failed NftablesError with the cause", async () => {
  const exec: Exec = { run: () => Promise.reject(Object.assign(new Error("spawn nft ENOENT"), { code: "ENOENT" })) };
  const nft = createNftables({ family: "ip", table: "t", exec });
  const err = (await nft.run(nft.newTransaction().add({ kind: "table" })).then(() => undefined, (e: unknown) => e)) as NftablesError;
  assert.is(err.kind, "failed");
  assert.match(err.message, /could not be started/);
  assert.ok(err.cause instanceof Error);
});

test("list() runs `nft -s -a list table` (with -t when elements are not wanted) and parses the text", async () => {
  const stdout = "table ip t { # handle 3\n\tchain c { # handle 1\n\t\taccept # handle 2\n\t}\n}\n";
  const { exec, calls } = recorder(() => ({ stdout }));
  const nft = createNftables({ family: "ip", table: "t", exec });
  const listing = await nft.list();
  assert.equal(calls[0]!.argv, ["nft", "-s", "-a", "list", "table", "ip", "t"]);
  assert.equal(listing.rules, [{ kind: "rule", chain: "c", rule: "accept", handle: 2 }]);
  await nft.list({ elements: false });
  assert.equal(calls[1]!.argv, ["nft", "-s", "-a", "-t", "list", "table", "ip", "t"]);
});

test("list() of a missing table rejects with a notFound error", async () => {
  const { exec } = recorder(() => ({ code: 1, stderr: "Error: No such file or directory\nlist table ip t\n              ^\n" }));
  await createNftables({ family: "ip", table: "t", exec })
    .list()
    .then(
      () => assert.unreachable("listed a missing table"),
      (err) => assert.ok(isNotFound(err), String(err)),
    );
});

test("check() probes every feature in one `nft -c` run when all are supported", async () => {
  const { exec, calls } = recorder((c) => (c.argv.includes("--version") ? { stdout: "nftables v1.0.6 (Lester Gooch #5)\n" } : {}));
  const report = await createNftables({ family: "ip", table: "t", exec }).check();
  assert.ok(report.ok);
  assert.is(report.version, "nftables v1.0.6 (Lester Gooch #5)");
  assert.is(calls.length, 2);
  assert.equal(calls[1]!.argv, ["nft", "-c", "-f", "-"]);
  for (const word of ["masquerade", "ct state", "numgen", "fib saddr type local", "flags dynamic,timeout", ": verdict", "inet_proto . inet_service"]) {
    assert.ok(calls[1]!.input!.includes(word), word);
  }
});

test("check() names the feature the kernel rejects, probing one by one after a failure", async () => {
  const { exec } = recorder((c) =>
    c.argv.includes("--version") ? { stdout: "nftables v1.0.6\n" } : c.input!.includes("fib") ? { code: 1, stderr: "/dev/stdin:3:1-9: Error: Could not process rule: No such file or directory\n" } : {},
  );
  const report = await createNftables({ family: "ip", table: "t", exec }).check();
  assert.not.ok(report.ok);
  assert.is(report.features.fib, "Could not process rule: No such file or directory");
  assert.is(report.features.nat, undefined);
});

test("check() reports a missing nft without throwing", async () => {
  const exec: Exec = { run: () => Promise.reject(new Error("spawn nft ENOENT")) };
  const report = await createNftables({ family: "ip", table: "t", exec }).check();
  assert.not.ok(report.ok);
  assert.match(report.features.nft ?? "", /could not be started/);
  assert.is(report.version, undefined);
});

test("spawnExec runs argv without a shell, feeds stdin (also from a function) and reports the exit code", async () => {
  const { spawnExec } = await import("./nftables.ts");
  const r = await spawnExec.run([process.execPath, "-e", "process.stdin.pipe(process.stdout); process.on('exit', () => process.exitCode = 3)"], { input: () => "a;b $(x)" });
  assert.is(r.stdout, "a;b $(x)");
  assert.is(r.code, 3);
  const slow = await spawnExec.run([process.execPath, "-e", "setTimeout(() => {}, 10000)"], { timeoutMs: 100 });
  assert.ok(slow.code !== 0);
  assert.match(slow.stderr, /killed after 100 ms/);
  await spawnExec.run(["/nonexistent/nft"]).then(
    () => assert.unreachable("started a missing program"),
    (e: NodeJS.ErrnoException) => assert.is(e.code, "ENOENT"),
  );
});

test.run();
