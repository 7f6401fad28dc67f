#!/usr/bin/env node
// Runs every `*_test.ts` file of one project with uvu, in one process.
// Unlike the uvu CLI it keeps going when a test file fails to load (and counts that
// file as a failed test), bounds the whole run in time (uvu has no per-test timeout),
// and ends with one machine-readable summary line that scripts/run_tests.mjs adds up.
// Start it as: node --conditions=@weft/source --import=tsx scripts/test_package.mjs [dir] [filter]
import { readdirSync, statSync } from "node:fs";
import { existsSync, readFileSync as readText } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(process.argv[2] ?? ".");
const filter = process.argv[3] ? new RegExp(process.argv[3]) : undefined;
const limitMs = Number(process.env.WEFT_TEST_TIMEOUT_MS ?? 15 * 60_000);
const SKIP_DIRS = new Set(["node_modules", "dist", ".nx", ".git"]);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (/_test\.ts$/.test(name) && (!filter || filter.test(path))) out.push(path);
  }
  return out;
}

const write = (s) => process.stdout.write(s);
let summary = { total: 0, passed: 0, skipped: 0, loadFailures: 0 };
const pkgFile = join(root, "package.json");
const project = existsSync(pkgFile) ? JSON.parse(readText(pkgFile, "utf8")).name : relative(process.cwd(), root) || ".";
const printSummary = () => write(`WEFT_TEST_SUMMARY ${JSON.stringify({ project, ...summary })}\n`);

const timer = setTimeout(() => {
  write(`\n  FAIL  test run of ${root} exceeded ${limitMs} ms (WEFT_TEST_TIMEOUT_MS); a test is hung\n`);
  summary.total += 1;
  printSummary();
  process.exit(1);
}, limitMs);
timer.unref();

globalThis.UVU_DEFER = 1;
await import("uvu");
const files = findTests(root);
let index = 0;
for (const file of files) {
  globalThis.UVU_INDEX = index++;
  globalThis.UVU_QUEUE.push([relative(root, file)]);
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    summary.loadFailures += 1;
    write(`\n  FAIL  ${relative(root, file)} failed to load:\n${err?.stack ?? err}\n`);
  }
}

// The same loop as uvu's exec(), keeping the counts.
let failed = false;
const started = performance.now();
for (const group of globalThis.UVU_QUEUE) {
  const name = group.shift();
  if (name != null) write(`\n${name}\n`);
  for (const suite of group) {
    const [errs, ran, skipped, max] = await suite();
    summary.total += max;
    summary.passed += ran;
    summary.skipped += skipped;
    if (errs.length) {
      write(`\n${errs}\n`);
      failed = true;
    }
  }
}
summary.total += summary.loadFailures;
const failures = summary.total - summary.passed;
write(`\n  Total:     ${summary.total}\n  Passed:    ${summary.passed}\n  Failed:    ${failures}\n  Skipped:   ${summary.skipped}\n  Duration:  ${Math.round(performance.now() - started)}ms\n\n`);
printSummary();
process.exitCode = failed || failures > 0 ? 1 : 0;
// Tests must clean up their handles; a leaked socket or timer must not hang CI.
setTimeout(() => {
  write(`warning: ${root}: handles still open 5 s after the tests ended; exiting anyway\n`);
  process.exit(process.exitCode);
}, 5000).unref();
