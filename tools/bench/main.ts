// `npm run bench [-- <name> ...]`: runs the named benchmarks (all when none is named).
// Each benchmark lives in benches/<name>.ts and default-exports `run(): Promise<void>`,
// printing its results with report() from this package.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = join(dirname(fileURLToPath(import.meta.url)), "benches");
const available = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2).filter((a) => a !== "--");
if (wanted.includes("--help") || wanted.includes("-h")) {
  console.log(`usage: npm run bench [-- <name> ...]\nbenchmarks: ${available.join(", ")}`);
  process.exit(0);
}
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(", ")} (available: ${available.join(", ")})`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.log(`\n== bench ${name}`);
  try {
    const mod = await import(pathToFileURL(join(dir, `${name}.ts`)).href);
    await mod.default();
  } catch (err) {
    failed++;
    console.error(`bench ${name} failed: ${(err as Error).stack ?? err}`);
  }
}
process.exit(failed ? 1 : 0);
