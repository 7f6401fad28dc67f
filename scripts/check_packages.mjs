#!/usr/bin/env node
// Workspace conventions check (`npm run lint`). Checks every project under packages/*, apps/* and tools/*
// against the conventions of /work/shared/STYLE.md and helper_rules.md:
//
//   mod-exports    mod.ts exists (packages) and re-exports, directly or through other re-exports, every
//                  public file (not `_`-prefixed, not a test), or testing.ts does; mod.ts holds only
//                  `export … from` statements after a module doc comment with an example, and never
//                  re-exports a private `_` file.                                                (STYLE 1, 4)
//   test-beside    every public source file foo.ts has foo_test.ts (or foo_integration_test.ts) beside it.
//                  Exempt: mod.ts, testing.ts, types.ts, constants.ts, and an app's/tool's main.ts when it
//                  is a pure dispatcher (under 100 lines, STYLE "avoid 1").                       (STYLE 3)
//   imports        no relative import leaves the project; relative imports carry the `.ts` suffix; no deep
//                  import of a workspace package (`@weft/x/sub`) unless `./sub` is in its exports map; no
//                  import of the project's own name or, from non-test code, of its own mod.ts; production
//                  code (reachable from the exports map, weftBin or main.ts) imports only packages listed in
//                  dependencies/peerDependencies/optionalDependencies (devDependencies too for private
//                  projects, which are never installed by consumers).                            (STYLE 5)
//   cycles         no dependency cycle between workspace packages, counting package.json dependencies
//                  of every kind and actual imports (tests included).                            (STYLE 5)
//   package-json   "type": "module"; every exports entry starts with the "@weft/source" condition and
//                  points at an existing file; typecheck and test scripts. Publishable (non-private)
//                  projects also need build, an exports "." entry with "types" before "default",
//                  "./package.json", "sideEffects": false, "./testing" when testing.ts exists, and plain
//                  versions for workspace dependencies.                                         (STYLE 22)
//   function-args  exported functions take at most 2 required parameters; optional or defaulted
//                  parameters, rest parameters and a trailing options object (named options/opts or typed
//                  `…Options`) do not count. Checked with the TypeScript compiler API.            (STYLE 7)
//
// Usage: node scripts/check_packages.mjs [--root <workspace>] [<project dir>...]
// Prints `<file>:<line>: <rule>: <message>` per violation (paths relative to the workspace root) and exits
// 1 if there are any, 0 if none, 2 on a usage error. With project dirs, only those projects are checked
// (cycles are still computed over the whole workspace but reported only when they involve one of them).
import { builtinModules } from "node:module";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const PROJECT_GROUPS = ["packages", "apps", "tools"];
const SKIP_DIRS = new Set(["node_modules", "dist", ".nx", ".git", "coverage"]);
const TEST_EXEMPT = new Set(["mod.ts", "testing.ts", "types.ts", "constants.ts"]);
const DISPATCHER_MAX_LINES = 100;
const BUILTINS = new Set(builtinModules);

// Per-project exemptions, each with its reason. Paths are relative to the project directory.
const PROJECT_EXEMPTIONS = {
  // Benchmarks are programs run by `npm run bench` (tools/bench/main.ts loads them by file name), not
  // library code: they are neither re-exported from mod.ts nor unit-tested, and, as helper_rules.md
  // prescribes, they import the harness (`report`, `measure`) by its package name "@weft/bench" like any
  // other consumer would ("self-import" is the own-package-name part of the imports rule).
  "tools/bench": { dirs: ["benches"], rules: ["mod-exports", "test-beside", "self-import"] },
  // tools/testutils needs no exemption: it is private, so the publishable-package rules (build script,
  // dist exports) do not apply to it, and its exports point at source by design (STYLE 21). It is still
  // checked for mod.ts exports, tests beside files, imports and function arity.
};

const posix = (p) => p.split(sep).join("/");

function parseArgs(argv) {
  let root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root") {
      const next = argv[++i];
      if (!next) usage("--root needs a directory");
      root = resolve(next);
    } else if (a === "-h" || a === "--help") {
      process.stdout.write("usage: node scripts/check_packages.mjs [--root <workspace>] [<project dir>...]\n");
      process.exit(0);
    } else if (a.startsWith("-")) {
      usage(`unknown option ${a}`);
    } else {
      only.push(a);
    }
  }
  return { root, only };
}

function usage(message) {
  process.stderr.write(`check_packages: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------
// Workspace model

function listTsFiles(dir, out = [], base = dir) {
  for (const name of readdirSync(dir).sort()) {
    if (SKIP_DIRS.has(name) || name.startsWith(".")) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) listTsFiles(path, out, base);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(posix(relative(base, path)));
  }
  return out;
}

function loadProjects(root) {
  const projects = [];
  for (const group of PROJECT_GROUPS) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir).sort()) {
      const dir = join(groupDir, name);
      const pkgPath = join(dir, "package.json");
      if (!statSync(dir).isDirectory() || !existsSync(pkgPath)) continue;
      const rel = `${group}/${name}`;
      const pkgText = readFileSync(pkgPath, "utf8");
      let pkg;
      try {
        pkg = JSON.parse(pkgText);
      } catch (err) {
        pkg = { __invalid: String(err.message) };
      }
      projects.push({ group, rel, dir, pkg, pkgText, files: listTsFiles(dir), sources: new Map() });
    }
  }
  return projects;
}

function sourceOf(project, file) {
  let sf = project.sources.get(file);
  if (!sf) {
    const text = readFileSync(join(project.dir, file), "utf8");
    sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    project.sources.set(file, sf);
  }
  return sf;
}

const lineOf = (sf, node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;

/** Every module reference of a file: import/export declarations, import(), require via import =, import types. */
function moduleRefs(sf) {
  const refs = [];
  const add = (lit, node, typeOnly) => {
    if (lit && ts.isStringLiteralLike(lit)) refs.push({ spec: lit.text, line: lineOf(sf, node), typeOnly });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node, Boolean(node.importClause?.isTypeOnly));
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier) add(node.moduleSpecifier, node, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node, false);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], node, false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, node, true);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

const isTest = (file) => /_test\.ts$/.test(file);
const isPrivate = (file) => file.split("/").some((seg) => seg.startsWith("_"));
const isExempt = (project, rule, file) => {
  const ex = PROJECT_EXEMPTIONS[project.rel];
  return Boolean(ex && ex.rules.includes(rule) && ex.dirs.some((d) => file === d || file.startsWith(`${d}/`)));
};

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
function packageNameOf(spec) {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const isBuiltin = (spec) => spec.startsWith("node:") || BUILTINS.has(spec) || BUILTINS.has(packageNameOf(spec));
const isRelative = (spec) => spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === "..";

/** Source entry points declared by package.json: `@weft/source` targets of exports, and weftBin. */
function declaredEntries(project) {
  const out = [];
  const exp = project.pkg.exports;
  if (exp && typeof exp === "object") {
    for (const target of Object.values(exp)) {
      if (target && typeof target === "object" && typeof target["@weft/source"] === "string") out.push(target["@weft/source"]);
    }
  }
  for (const target of Object.values(project.pkg.weftBin ?? {})) if (typeof target === "string") out.push(target);
  return out.map((p) => posix(p).replace(/^\.\//, ""));
}

/** Whether `sub` ("./testing") is matched by an exports map (exact keys or a single `*` pattern). */
function exportsHas(pkg, sub) {
  const exp = pkg.exports;
  if (!exp || typeof exp !== "object") return sub === ".";
  for (const key of Object.keys(exp)) {
    if (key === sub) return true;
    const star = key.indexOf("*");
    if (star >= 0 && sub.startsWith(key.slice(0, star)) && sub.endsWith(key.slice(star + 1))) return true;
  }
  return false;
}

/** 1-based line of the first occurrence of `"key"` in a package.json text. */
function jsonLine(text, key) {
  const at = text.indexOf(`"${key}"`);
  return at < 0 ? 1 : text.slice(0, at).split("\n").length;
}

// ---------------------------------------------------------------------------------------------------
// Rules

function checkModExports(project, report) {
  const modPath = "mod.ts";
  const hasMod = project.files.includes(modPath);
  if (!hasMod) {
    // Apps are executables (weftBin/main.ts) and tools may be too: mod.ts is required only of packages.
    if (project.group === "packages") report(project, "package.json", 1, "mod-exports", "missing mod.ts: a package's only public entry (STYLE 1)");
    return;
  }
  const mod = sourceOf(project, modPath);
  const head = mod.text.trimStart();
  const doc = head.startsWith("/**") ? head.slice(0, head.indexOf("*/") + 2) : "";
  if (!doc || !/@example|```/.test(doc)) {
    report(project, modPath, 1, "mod-exports", "mod.ts must start with a module doc comment (/** … */) holding one example (STYLE 1)");
  }
  for (const st of mod.statements) {
    if (!(ts.isExportDeclaration(st) && st.moduleSpecifier)) {
      report(project, modPath, lineOf(mod, st), "mod-exports", "mod.ts may only contain `export … from \"./file.ts\"` statements (STYLE 1)");
    }
  }
  // Public = reachable through re-exports from mod.ts, testing.ts and any declared entry point.
  const roots = new Set([modPath, ...declaredEntries(project)]);
  if (project.files.includes("testing.ts")) roots.add("testing.ts");
  const exported = new Set();
  const queue = [...roots].filter((f) => project.files.includes(f));
  while (queue.length) {
    const file = queue.shift();
    if (exported.has(file)) continue;
    exported.add(file);
    const sf = sourceOf(project, file);
    for (const st of sf.statements) {
      if (!(ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteralLike(st.moduleSpecifier))) continue;
      const spec = st.moduleSpecifier.text;
      if (!isRelative(spec)) continue;
      const target = posix(relative(project.dir, resolve(project.dir, dirname(file), spec)));
      if (roots.has(file) && isPrivate(target)) {
        report(project, file, lineOf(sf, st), "mod-exports", `re-exports private file ${spec}: \`_\` files are never public (STYLE 4)`);
        continue;
      }
      if (project.files.includes(target)) queue.push(target);
    }
  }
  const bins = new Set(declaredEntries(project).filter((f) => Object.values(project.pkg.weftBin ?? {}).map((p) => posix(p).replace(/^\.\//, "")).includes(f)));
  for (const file of project.files) {
    if (isTest(file) || isPrivate(file) || exported.has(file) || bins.has(file)) continue;
    if (basename(file) === "main.ts" && project.group !== "packages") continue; // an executable's entry, not API
    if (isExempt(project, "mod-exports", file)) continue;
    report(project, file, 1, "mod-exports", `not exported: add \`export * from "./${file}";\` to mod.ts (or testing.ts for fakes), or rename it _${basename(file)} if private`);
  }
}

function checkTestsBeside(project, report) {
  const have = new Set(project.files);
  for (const file of project.files) {
    if (isTest(file) || isPrivate(file) || TEST_EXEMPT.has(basename(file))) continue;
    if (isExempt(project, "test-beside", file)) continue;
    if (basename(file) === "main.ts" && project.group !== "packages") {
      const lines = sourceOf(project, file).getLineAndCharacterOfPosition(sourceOf(project, file).end).line + 1;
      if (lines < DISPATCHER_MAX_LINES) continue; // a pure dispatcher (STYLE "avoid 1") needs no unit test
    }
    const stem = file.slice(0, -".ts".length);
    if (have.has(`${stem}_test.ts`) || have.has(`${stem}_integration_test.ts`)) continue;
    report(project, file, 1, "test-beside", `no ${basename(stem)}_test.ts beside ${basename(file)} (STYLE 3)`);
  }
}

function productionFiles(project) {
  // Files reachable by imports from the declared entries (and main.ts): what a consumer or the binary runs.
  const starts = [...declaredEntries(project), "mod.ts", "testing.ts", "main.ts"].filter((f) => project.files.includes(f));
  const seen = new Set();
  const queue = [...starts];
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file) || isTest(file)) continue;
    seen.add(file);
    for (const ref of moduleRefs(sourceOf(project, file))) {
      if (!isRelative(ref.spec)) continue;
      const target = posix(relative(project.dir, resolve(project.dir, dirname(file), ref.spec)));
      if (project.files.includes(target)) queue.push(target);
    }
  }
  return seen;
}

function checkImports(project, byName, report) {
  const own = project.pkg.name;
  const prod = productionFiles(project);
  const pkg = project.pkg;
  const runtimeDeps = new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies }));
  const allDeps = new Set([...runtimeDeps, ...Object.keys(pkg.devDependencies ?? {})]);
  for (const file of project.files) {
    const sf = sourceOf(project, file);
    for (const { spec, line } of moduleRefs(sf)) {
      if (isRelative(spec)) {
        const abs = resolve(project.dir, dirname(file), spec);
        const rel = relative(project.dir, abs);
        if (rel.startsWith("..") || isAbsolute(rel)) {
          report(project, file, line, "imports", `relative import ${spec} leaves the project: import the package by name instead (STYLE 5)`);
          continue;
        }
        if (!/\.(ts|json)$/.test(spec)) report(project, file, line, "imports", `relative import ${spec} needs the .ts suffix`);
        if (posix(rel) === "mod.ts" && !isTest(file) && file !== "mod.ts") {
          report(project, file, line, "imports", "imports its own mod.ts: import the sibling file directly (STYLE 5)");
        }
        continue;
      }
      if (isBuiltin(spec)) continue;
      const name = packageNameOf(spec);
      if (name === own) {
        if (!isExempt(project, "self-import", file)) report(project, file, line, "imports", `imports its own package ${spec}: import the file directly`);
        continue;
      }
      const target = byName.get(name);
      if (target && spec !== name) {
        const sub = `./${spec.slice(name.length + 1)}`;
        if (!exportsHas(target.pkg, sub)) report(project, file, line, "imports", `deep import ${spec}: ${name} does not export "${sub}"; import ${name} only (STYLE 5)`);
      }
      if (prod.has(file)) {
        const ok = pkg.private ? allDeps.has(name) : runtimeDeps.has(name);
        if (!ok) {
          const where = pkg.private ? "dependencies or devDependencies" : allDeps.has(name) ? "dependencies (it is only a devDependency)" : "dependencies";
          report(project, file, line, "imports", `${name} is imported by production code but not listed in package.json ${where}`);
        }
      }
    }
  }
}

function checkCycles(projects, byName, selected, report) {
  // edges: name -> Map(targetName -> evidence {project, file, line})
  const edges = new Map();
  const addEdge = (from, to, evidence) => {
    if (from === to || !byName.has(to)) return;
    const m = edges.get(from) ?? new Map();
    if (!m.has(to)) m.set(to, evidence);
    edges.set(from, m);
  };
  for (const p of projects) {
    const name = p.pkg.name;
    if (!name) continue;
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
      for (const dep of Object.keys(p.pkg[field] ?? {})) addEdge(name, dep, { project: p, file: "package.json", line: jsonLine(p.pkgText, dep) });
    }
    for (const file of p.files) {
      for (const { spec, line } of moduleRefs(sourceOf(p, file))) {
        if (!isRelative(spec) && !isBuiltin(spec)) addEdge(name, packageNameOf(spec), { project: p, file, line });
      }
    }
  }
  // Tarjan's strongly connected components.
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const sccs = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of (edges.get(v) ?? new Map()).keys()) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) sccs.push(comp.sort());
    }
  };
  for (const name of [...byName.keys()].sort()) if (!idx.has(name)) strong(name);
  for (const comp of sccs) {
    if (selected && !comp.some((n) => selected.has(n))) continue;
    // A concrete cycle through the first member: BFS inside the component back to it.
    const startName = comp[0];
    const inComp = new Set(comp);
    const prev = new Map();
    const queue = [startName];
    let found = false;
    while (queue.length && !found) {
      const v = queue.shift();
      for (const w of (edges.get(v) ?? new Map()).keys()) {
        if (!inComp.has(w)) continue;
        if (w === startName) {
          prev.set("__end", v);
          found = true;
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [startName];
    for (let v = prev.get("__end"); v !== startName && v !== undefined; v = prev.get(v)) path.splice(1, 0, v);
    path.push(startName);
    const hops = path.slice(0, -1).map((from, i) => {
      const ev = edges.get(from).get(path[i + 1]);
      return `${from} -> ${path[i + 1]} (${ev.project.rel}/${ev.file}:${ev.line})`;
    });
    const first = edges.get(path[0]).get(path[1]);
    report(first.project, first.file, first.line, "cycles", `package dependency cycle ${path.join(" -> ")}: ${hops.join(", ")}`);
  }
}

function checkPackageJson(project, byName, report) {
  const { pkg, pkgText } = project;
  const at = (key) => jsonLine(pkgText, key);
  const bad = (key, message) => report(project, "package.json", at(key), "package-json", message);
  if (pkg.__invalid) {
    report(project, "package.json", 1, "package-json", `not valid JSON: ${pkg.__invalid}`);
    return;
  }
  if (typeof pkg.name !== "string") bad("name", "missing name");
  if (pkg.type !== "module") bad("type", `"type" must be "module"`);
  const publishable = pkg.private !== true;
  const scripts = pkg.scripts ?? {};
  for (const script of publishable ? ["build", "typecheck", "test"] : ["typecheck", "test"]) {
    if (typeof scripts[script] !== "string") bad("scripts", `missing "${script}" script`);
  }
  const exp = pkg.exports;
  if (exp !== undefined && (typeof exp !== "object" || exp === null || Array.isArray(exp))) {
    bad("exports", `"exports" must be a map of subpaths`);
    return;
  }
  for (const [sub, target] of Object.entries(exp ?? {})) {
    if (typeof target !== "object" || target === null) continue; // e.g. "./package.json": "./package.json"
    const keys = Object.keys(target);
    if (keys[0] !== "@weft/source") bad(sub, `exports["${sub}"] must list the "@weft/source" condition first (workspace consumers resolve source)`);
    const source = target["@weft/source"];
    if (typeof source === "string" && !existsSync(join(project.dir, source))) bad(sub, `exports["${sub}"]["@weft/source"] points at missing file ${source}`);
    if (publishable && keys.includes("types") && keys.includes("default") && keys.indexOf("types") > keys.indexOf("default")) {
      bad(sub, `exports["${sub}"]: "types" must come before "default"`);
    }
  }
  if (!publishable) return;
  if (!exp || typeof exp["."] !== "object") bad("exports", `a publishable package needs an exports "." entry { "@weft/source": "./mod.ts", "types": …, "default": … }`);
  if (exp && !("./package.json" in exp)) bad("exports", `exports should include "./package.json"`);
  if (project.files.includes("testing.ts") && !exportsHas(pkg, "./testing")) bad("exports", `testing.ts exists but exports has no "./testing" subpath (STYLE 14)`);
  if (pkg.sideEffects !== false) bad("sideEffects", `"sideEffects" must be false`);
  for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
      const target = byName.get(dep);
      if (target && typeof target.pkg.version === "string" && range !== target.pkg.version) {
        report(project, "package.json", jsonLine(pkgText, dep), "package-json", `${field}["${dep}"] must be the plain workspace version "${target.pkg.version}", got "${range}"`);
      }
    }
  }
}

/** Whether a parameter is the trailing options object (named options/opts, or typed …Options). */
function isOptionsParam(sf, param) {
  const name = ts.isIdentifier(param.name) ? param.name.text : "";
  if (/^(options|opts)$/i.test(name)) return true;
  const type = param.type ? param.type.getText(sf) : "";
  return /Options\b/.test(type);
}

function requiredCount(sf, params) {
  const list = [...params].filter((p) => !(ts.isIdentifier(p.name) && p.name.text === "this"));
  let required = list.filter((p) => !p.questionToken && !p.initializer && !p.dotDotDotToken);
  const last = list[list.length - 1];
  if (last && required.includes(last) && isOptionsParam(sf, last)) required = required.slice(0, -1);
  return required.length;
}

function checkFunctionArgs(project, report) {
  for (const file of project.files) {
    if (isTest(file) || isPrivate(file)) continue;
    const sf = sourceOf(project, file);
    const isExported = (node) => Boolean(ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export);
    // Local declarations that `export { a, b as c }` may publish.
    const locals = new Map();
    for (const st of sf.statements) {
      if (ts.isFunctionDeclaration(st) && st.name) locals.set(st.name.text, [...(locals.get(st.name.text) ?? []), st]);
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) locals.set(d.name.text, [d]);
      }
    }
    const checked = new Set();
    const check = (name, fn, node) => {
      if (checked.has(fn)) return;
      checked.add(fn);
      const n = requiredCount(sf, fn.parameters);
      if (n > 2) {
        report(project, file, lineOf(sf, node), "function-args", `exported function ${name} has ${n} required parameters: take at most 2 plus an options object named ${name[0].toUpperCase()}${name.slice(1)}Options (STYLE 7)`);
      }
    };
    const checkDecl = (name, decl) => {
      if (ts.isFunctionDeclaration(decl)) check(name, decl, decl);
      else if (ts.isVariableDeclaration(decl) && decl.initializer) {
        let init = decl.initializer;
        while (ts.isParenthesizedExpression(init) || ts.isAsExpression(init) || ts.isSatisfiesExpression?.(init)) init = init.expression;
        if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) check(name, init, decl);
      }
    };
    for (const st of sf.statements) {
      if (ts.isFunctionDeclaration(st) && isExported(st)) checkDecl(st.name?.text ?? "default", st);
      else if (ts.isVariableStatement(st) && isExported(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) checkDecl(d.name.text, d);
      } else if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) {
          const local = (el.propertyName ?? el.name).text;
          for (const decl of locals.get(local) ?? []) checkDecl(el.name.text, decl);
        }
      } else if (ts.isExportAssignment(st) && ts.isIdentifier(st.expression)) {
        for (const decl of locals.get(st.expression.text) ?? []) checkDecl("default", decl);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------

export function checkWorkspace(root, only = []) {
  const projects = loadProjects(root);
  const byName = new Map(projects.filter((p) => typeof p.pkg.name === "string").map((p) => [p.pkg.name, p]));
  let chosen = projects;
  let selected;
  if (only.length) {
    const wanted = only.map((o) => posix(relative(root, resolve(root, o))).replace(/\/$/, ""));
    for (const w of wanted) if (!projects.some((p) => p.rel === w)) usage(`${w} is not a project under ${PROJECT_GROUPS.join("/, ")}/ of ${root}`);
    chosen = projects.filter((p) => wanted.includes(p.rel));
    selected = new Set(chosen.map((p) => p.pkg.name));
  }
  const violations = [];
  const report = (project, file, line, rule, message) => violations.push({ file: `${project.rel}/${file}`, line, rule, message });
  for (const project of chosen) {
    checkPackageJson(project, byName, report);
    checkModExports(project, report);
    checkTestsBeside(project, report);
    checkImports(project, byName, report);
    checkFunctionArgs(project, report);
  }
  checkCycles(projects, byName, selected, report);
  violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
  return { projects: chosen.length, violations };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { root, only } = parseArgs(process.argv.slice(2));
  const { projects, violations } = checkWorkspace(root, only);
  for (const v of violations) process.stdout.write(`${v.file}:${v.line}: ${v.rule}: ${v.message}\n`);
  process.stderr.write(`check_packages: ${projects} project(s) checked, ${violations.length} violation(s)\n`);
  process.exitCode = violations.length ? 1 : 0;
}
