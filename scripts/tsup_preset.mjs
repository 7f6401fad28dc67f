// Shared tsup configuration: each project's `build` script runs
//   tsup --config ../../scripts/tsup_preset.mjs
// Entries come from the project's package.json `exports` map (the "@weft/source" condition),
// so a package declares its public entry points in exactly one place.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "tsup";

const pkg = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8"));
const entries = {};
for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
  const source = typeof target === "object" ? target["@weft/source"] : undefined;
  if (!source) continue;
  const name = subpath === "." ? "mod" : subpath.replace(/^\.\//, "");
  entries[name] = source;
}
for (const [name, source] of Object.entries(pkg.weftBin ?? {})) entries[name] = source;

export default defineConfig({
  entry: entries,
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: Object.keys(pkg.weftBin ?? {}).length === 0 ? { compilerOptions: { customConditions: [] } } : false,
  sourcemap: true,
  clean: true,
  splitting: false,
  outDir: "dist",
  tsconfig: "tsconfig.json",
});
