#!/usr/bin/env node
// `npm test`: runs every project's `test` target through nx, adds up the summaries
// that scripts/test_package.mjs prints, and ends with the line CI reads:
//   N passed, N failed, N skipped
// A project that fails without a summary (crash, load error) counts as one failure.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const extra = process.argv.slice(2);
const args = ["nx", "run-many", "-t", "test", "--outputStyle=stream", "--parallel=2", "--skipNxCache", ...extra];
const child = spawn("npx", args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NX_DAEMON: "false", NX_TUI: "false" } });

const projects = new Map();
const failedProjects = new Set();
const lines = createInterface({ input: child.stdout });
lines.on("line", (line) => {
  process.stdout.write(line + "\n");
  const m = line.match(/WEFT_TEST_SUMMARY (\{.*\})\s*$/);
  if (m) {
    const s = JSON.parse(m[1]);
    projects.set(s.project, s);
  }
  const f = line.match(/^\s*(?:✖|×|x)\s+(\S+):test\b/) ?? line.match(/Running target test for .* failed/);
  if (f?.[1]) failedProjects.add(f[1]);
});

const code = await new Promise((res) => child.on("close", (c) => res(c ?? 1)));
let passed = 0, failed = 0, skipped = 0;
for (const s of projects.values()) {
  passed += s.passed;
  failed += s.total - s.passed;
  skipped += s.skipped;
}
if (code !== 0 && failed === 0) failed = Math.max(1, failedProjects.size);
console.log(`\n${projects.size} projects tested`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
