// Tests of scripts/check_packages.mjs (`npm run lint`): each rule on small fixture workspaces built in a
// temp dir (so every rule is shown to fail), then the whole Weft workspace, which must have no violations.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const WORKSPACE = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = join(WORKSPACE, "scripts/check_packages.mjs");

interface CheckResult {
  code: number;
  lines: string[];
  stderr: string;
}

function runCheck(args: string[]): Promise<CheckResult> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [SCRIPT, ...args], { timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return fail(err); // killed by the timeout, or could not start
      done({ code: err ? Number(err.code) : 0, lines: stdout.split("\n").filter(Boolean), stderr });
    });
  });
}

type Files = Record<string, string | object>;

const dirs: string[] = [];
function workspace(files: Files): string {
  const root = mkdtempSync(join(tmpdir(), "weft-conventions-"));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
  }
  return root;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function pkgJson(name: string, more: Record<string, unknown> = {}): object {
  return {
    name,
    version: "0.1.0",
    type: "module",
    sideEffects: false,
    exports: {
      ".": { "@weft/source": "./mod.ts", types: "./dist/mod.d.ts", default: "./dist/mod.js" },
      "./package.json": "./package.json",
    },
    scripts: { build: "tsup", typecheck: "tsc -p tsconfig.json", test: "node test.mjs" },
    ...more,
  };
}

/** A package that follows every convention. */
function goodPackage(dir: string, name: string): Files {
  return {
    [`${dir}/package.json`]: pkgJson(name),
    [`${dir}/mod.ts`]: '/**\n * Doc.\n * @example\n * ```ts\n * make("a", 1);\n * ```\n * @module\n */\nexport * from "./thing.ts";\nexport * from "./types.ts";\n',
    [`${dir}/thing.ts`]:
      'import type { Thing } from "./types.ts";\nimport { helper } from "./_helper.ts";\nexport interface MakeOptions { x?: number }\nexport function make(a: string, b: number, options: MakeOptions = {}): Thing { return { a: helper(a) + b + (options.x ?? 0) }; }\n',
    [`${dir}/thing_test.ts`]: 'import { make } from "./thing.ts";\nmake("a", 1);\n',
    [`${dir}/types.ts`]: "export interface Thing { a: string }\n",
    [`${dir}/_helper.ts`]: "export function helper(a: string, b = 1, c = 2): string { return a + b + c; }\n",
  };
}

const withRule = (r: CheckResult, rule: string) => r.lines.filter((l) => l.split(": ")[1] === rule);

test("check_packages: a conforming workspace has no violations and exits 0", async () => {
  const root = workspace({ ...goodPackage("packages/a", "@weft/a"), ...goodPackage("packages/b", "@weft/b") });
  const r = await runCheck(["--root", root]);
  assert.equal(r.lines, []);
  assert.is(r.code, 0);
  assert.match(r.stderr, /2 project\(s\) checked, 0 violation/);
});

test("check_packages mod-exports: a public file missing from mod.ts, a missing mod.ts, a private re-export, other statements", async () => {
  const root = workspace({
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/extra.ts": "export const x = 1;\n",
    "packages/a/extra_test.ts": "import './extra.ts';\n",
    "packages/a/sub/deep.ts": "export const y = 1;\n",
    "packages/a/sub/deep_test.ts": "import './deep.ts';\n",
    "packages/a/fake.ts": "export const f = 1;\n",
    "packages/a/fake_test.ts": "import './fake.ts';\n",
    "packages/a/testing.ts": 'export * from "./fake.ts";\n',
    "packages/b/package.json": pkgJson("@weft/b"),
    "packages/c/package.json": pkgJson("@weft/c"),
    "packages/c/mod.ts": 'import "./x.ts";\nexport const z = 1;\nexport * from "./_priv.ts";\n',
    "packages/c/_priv.ts": "export const p = 1;\n",
  });
  const r = await runCheck(["--root", root]);
  const lines = withRule(r, "mod-exports");
  assert.ok(lines.includes('packages/a/extra.ts:1: mod-exports: not exported: add `export * from "./extra.ts";` to mod.ts (or testing.ts for fakes), or rename it _extra.ts if private'), r.lines.join("\n"));
  assert.ok(lines.some((l) => l.startsWith("packages/a/sub/deep.ts:1: mod-exports: not exported")), lines.join("\n"));
  assert.not.ok(lines.some((l) => l.startsWith("packages/a/fake.ts")), "exported through testing.ts");
  assert.ok(lines.some((l) => l.startsWith("packages/b/package.json:1: mod-exports: missing mod.ts")));
  assert.ok(lines.includes('packages/c/mod.ts:1: mod-exports: mod.ts may only contain `export … from "./file.ts"` statements (STYLE 1)'));
  assert.ok(lines.includes("packages/c/mod.ts:1: mod-exports: mod.ts must start with a module doc comment (/** … */) holding one example (STYLE 1)"));
  assert.not.ok(lines.some((l) => l.startsWith("packages/a/mod.ts")), "a/mod.ts has its doc comment");
  assert.ok(lines.some((l) => l.startsWith("packages/c/mod.ts:2: mod-exports: mod.ts may only contain")));
  assert.ok(lines.some((l) => l.startsWith("packages/c/mod.ts:3: mod-exports: re-exports private file ./_priv.ts")));
  assert.is(r.code, 1);
});

test("check_packages mod-exports: re-exports through a sub-module count, apps need no mod.ts", async () => {
  const root = workspace({
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/mod.ts": '/** A. @example `make("a", 1)` */\nexport * from "./thing.ts";\nexport * from "./types.ts";\nexport * from "./sub/mod.ts";\n',
    "packages/a/sub/mod.ts": 'export * from "./deep.ts";\n',
    "packages/a/sub/deep.ts": "export const y = 1;\n",
    "packages/a/sub/deep_test.ts": "import './deep.ts';\n",
    "apps/x/package.json": { name: "@weft/x", version: "0.1.0", private: true, type: "module", scripts: { typecheck: "tsc", test: "t" }, weftBin: { main: "./main.ts" } },
    "apps/x/main.ts": "console.log(1);\n",
  });
  const r = await runCheck(["--root", root]);
  assert.equal(r.lines, []);
});

test("check_packages test-beside: sources need foo_test.ts; exempt files and short app mains do not", async () => {
  const long = Array.from({ length: 120 }, (_, i) => `export const v${i} = ${i};`).join("\n");
  const root = workspace({
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/mod.ts": '/** A. @example `make("a", 1)` */\nexport * from "./thing.ts";\nexport * from "./types.ts";\nexport * from "./untested.ts";\nexport * from "./constants.ts";\nexport * from "./net.ts";\n',
    "packages/a/untested.ts": "export const u = 1;\n",
    "packages/a/constants.ts": "export const C = 1;\n",
    "packages/a/net.ts": "export const n = 1;\n",
    "packages/a/net_integration_test.ts": "import './net.ts';\n",
    "apps/x/package.json": { name: "@weft/x", version: "0.1.0", private: true, type: "module", scripts: { typecheck: "tsc", test: "t" } },
    "apps/x/main.ts": "console.log(1);\n",
    "apps/y/package.json": { name: "@weft/y", version: "0.1.0", private: true, type: "module", scripts: { typecheck: "tsc", test: "t" } },
    "apps/y/main.ts": long,
  });
  const r = await runCheck(["--root", root]);
  assert.equal(withRule(r, "test-beside"), [
    "apps/y/main.ts:1: test-beside: no main_test.ts beside main.ts (STYLE 3)",
    "packages/a/untested.ts:1: test-beside: no untested_test.ts beside untested.ts (STYLE 3)",
  ]);
  assert.is(r.code, 1);
});

test("check_packages imports: escaping relative imports, missing suffix, deep imports, own mod.ts, undeclared deps", async () => {
  const root = workspace({
    ...goodPackage("packages/b", "@weft/b"),
    "packages/b/package.json": pkgJson("@weft/b", {
      exports: {
        ".": { "@weft/source": "./mod.ts", types: "./dist/mod.d.ts", default: "./dist/mod.js" },
        "./testing": { "@weft/source": "./testing.ts", types: "./dist/testing.d.ts", default: "./dist/testing.js" },
        "./package.json": "./package.json",
      },
    }),
    "packages/b/testing.ts": 'export * from "./fake.ts";\n',
    "packages/b/fake.ts": "export const f = 1;\n",
    "packages/b/fake_test.ts": "import './fake.ts';\n",
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/package.json": pkgJson("@weft/a", { dependencies: { "@weft/b": "0.1.0" }, devDependencies: { "dev-only": "1.0.0" } }),
    "packages/a/thing.ts":
      'import { x } from "../b/thing.ts";\nimport { y } from "./types";\nimport { z } from "@weft/b/thing";\nimport { f } from "@weft/b/testing";\nimport * as m from "./mod.ts";\nimport ip from "left-pad";\nimport d from "dev-only";\nimport { readFile } from "node:fs/promises";\nimport "@weft/a";\nexport function make(): void {}\n',
    "packages/a/thing_test.ts": 'import "dev-only";\nimport "uvu";\nimport "./mod.ts";\n',
  });
  const r = await runCheck(["--root", root, "packages/a"]);
  const lines = withRule(r, "imports");
  const expect = [
    "packages/a/thing.ts:1: imports: relative import ../b/thing.ts leaves the project: import the package by name instead (STYLE 5)",
    "packages/a/thing.ts:2: imports: relative import ./types needs the .ts suffix",
    'packages/a/thing.ts:3: imports: deep import @weft/b/thing: @weft/b does not export "./thing"; import @weft/b only (STYLE 5)',
    "packages/a/thing.ts:5: imports: imports its own mod.ts: import the sibling file directly (STYLE 5)",
    "packages/a/thing.ts:6: imports: left-pad is imported by production code but not listed in package.json dependencies",
    "packages/a/thing.ts:7: imports: dev-only is imported by production code but not listed in package.json dependencies (it is only a devDependency)",
    "packages/a/thing.ts:9: imports: imports its own package @weft/a: import the file directly",
  ];
  assert.equal(lines, expect);
  assert.ok(r.lines.every((l) => l.startsWith("packages/a/")), "only the selected project is checked");
  assert.is(r.code, 1);
});

test("check_packages cycles: a cycle through package.json or imports is reported once with its path", async () => {
  const root = workspace({
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/package.json": pkgJson("@weft/a", { dependencies: { "@weft/b": "0.1.0" } }),
    ...goodPackage("packages/b", "@weft/b"),
    "packages/b/package.json": pkgJson("@weft/b", { devDependencies: { "@weft/c": "0.1.0" } }),
    ...goodPackage("packages/c", "@weft/c"),
    "packages/c/thing_test.ts": 'import "@weft/a";\n',
    ...goodPackage("packages/d", "@weft/d"),
  });
  const r = await runCheck(["--root", root]);
  const lines = withRule(r, "cycles");
  assert.is(lines.length, 1, r.lines.join("\n"));
  assert.match(lines[0]!, /^packages\/a\/package\.json:\d+: cycles: package dependency cycle @weft\/a -> @weft\/b -> @weft\/c -> @weft\/a: /);
  assert.match(lines[0]!, /@weft\/c -> @weft\/a \(packages\/c\/thing_test\.ts:1\)/);
  // not reported when checking only a project outside the cycle
  const only = await runCheck(["--root", root, "packages/d"]);
  assert.equal(only.lines, []);
  assert.is(only.code, 0);
});

test("check_packages package-json: type, exports order, scripts, sideEffects, ./testing, workspace versions", async () => {
  const root = workspace({
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/package.json": {
      name: "@weft/a",
      version: "0.1.0",
      type: "commonjs",
      exports: { ".": { types: "./dist/mod.d.ts", "@weft/source": "./mod.ts", default: "./dist/mod.js" } },
      scripts: { test: "t" },
      dependencies: { "@weft/b": "^0.1.0" },
    },
    "packages/a/testing.ts": 'export * from "./thing.ts";\n',
    ...goodPackage("packages/b", "@weft/b"),
    "packages/b/package.json": pkgJson("@weft/b", {
      exports: { ".": { "@weft/source": "./missing.ts", default: "./dist/mod.js", types: "./dist/mod.d.ts" }, "./package.json": "./package.json" },
    }),
    "tools/t/package.json": { name: "@weft/t", version: "0.0.0", private: true, type: "module", exports: { ".": { "@weft/source": "./mod.ts", default: "./mod.ts" } }, scripts: { test: "t", typecheck: "t" } },
    "tools/t/mod.ts": "/** T. @example `t` */\n",
  });
  const r = await runCheck(["--root", root]);
  const msgs = withRule(r, "package-json").map((l) => l.replace(/^[^:]+:\d+: package-json: /, ""));
  for (const want of [
    '"type" must be "module"',
    'missing "build" script',
    'missing "typecheck" script',
    'exports["."] must list the "@weft/source" condition first (workspace consumers resolve source)',
    'exports should include "./package.json"',
    'testing.ts exists but exports has no "./testing" subpath (STYLE 14)',
    '"sideEffects" must be false',
    'dependencies["@weft/b"] must be the plain workspace version "0.1.0", got "^0.1.0"',
    'exports["."]["@weft/source"] points at missing file ./missing.ts',
    'exports["."]: "types" must come before "default"',
  ]) {
    assert.ok(msgs.includes(want), `missing ${want} in\n${r.lines.join("\n")}`);
  }
  assert.not.ok(r.lines.some((l) => l.startsWith("tools/t/")), "a private tool needs no build script or dist exports");
  assert.ok(r.lines.some((l) => /^packages\/a\/package\.json:4: package-json: "type"/.test(l)), "points at the line of the key");
});

test("check_packages function-args: more than 2 required parameters, options objects and optional ones don't count", async () => {
  const root = workspace({
    ...goodPackage("packages/a", "@weft/a"),
    "packages/a/thing.ts": [
      "export interface MakeOptions { x?: number }",
      "export function ok1(a: string, b: number, options: MakeOptions): void {}",
      "export function ok2(a: string, b: number, c?: number, d = 1, ...rest: number[]): void {}",
      "export function bad1(a: string, b: number, c: number): void {}",
      "export const bad2 = (a: string, b: number, c: number, opts?: MakeOptions): void => {};",
      "function bad3(a: string, b: number, { x }: { x: number }): void {}",
      "function fine(a: string, b: number, c: number): void {}",
      "export { bad3 as renamed };",
      "export class K { method(a: string, b: string, c: string): void {} }",
      "export default function (a: number, b: number, c: number, d: number) {}",
    ].join("\n"),
  });
  const r = await runCheck(["--root", root]);
  const lines = withRule(r, "function-args").map((l) => l.replace(/: take at most.*$/, ""));
  assert.equal(lines, [
    "packages/a/thing.ts:4: function-args: exported function bad1 has 3 required parameters",
    "packages/a/thing.ts:5: function-args: exported function bad2 has 3 required parameters",
    "packages/a/thing.ts:6: function-args: exported function renamed has 3 required parameters",
    "packages/a/thing.ts:10: function-args: exported function default has 4 required parameters",
  ]);
  assert.match(r.lines.find((l) => l.includes("bad1"))!, /options object named Bad1Options/);
});

test("check_packages: exemptions for tools/bench benches are explicit", async () => {
  const root = workspace({
    "tools/bench/package.json": { name: "@weft/bench", version: "0.0.0", private: true, type: "module", exports: { ".": { "@weft/source": "./mod.ts", default: "./mod.ts" } }, scripts: { test: "t", typecheck: "t" } },
    "tools/bench/mod.ts": "/** Bench. @example `run()` */\n",
    "tools/bench/benches/lease-acquire.ts": 'import "@weft/bench";\nexport default async function run(): Promise<void> {}\n',
    "tools/other/package.json": { name: "@weft/other", version: "0.0.0", private: true, type: "module", exports: { ".": { "@weft/source": "./mod.ts", default: "./mod.ts" } }, scripts: { test: "t", typecheck: "t" } },
    "tools/other/mod.ts": "/** Other. @example `run()` */\n",
    "tools/other/benches/lease-acquire.ts": 'import "@weft/other";\nexport default async function run(): Promise<void> {}\n',
  });
  const r = await runCheck(["--root", root]);
  assert.equal(r.lines.filter((l) => l.startsWith("tools/bench/")), []);
  assert.equal(
    r.lines.filter((l) => l.startsWith("tools/other/benches/")).map((l) => l.split(": ")[1]),
    ["imports", "mod-exports", "test-beside"],
  );
});

test("check_packages: an unknown project argument is a usage error (exit 2)", async () => {
  const root = workspace(goodPackage("packages/a", "@weft/a"));
  const r = await runCheck(["--root", root, "packages/nope"]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /packages\/nope is not a project/);
});

// The whole workspace: the lead reviews this at integration (other packages may still be in progress).
test("the Weft workspace follows its conventions (npm run lint finds no violations)", async () => {
  const r = await runCheck([]);
  assert.ok(r.code === 0 && r.lines.length === 0, `${r.lines.length} violation(s):\n${r.lines.join("\n")}`);
});

test.run();
