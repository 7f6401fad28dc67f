#!/usr/bin/env node
// `npm run demo [-- options]`: runs tools/testbed/demo.ts from source (a 3-node cluster in network namespaces,
// weftd on every node, pods through the real weft-cni binary, a reachability matrix). `-- --help` lists options.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const child = spawn(process.execPath, ["--conditions=@weft/source", "--import=tsx", "tools/testbed/demo.ts", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
// Ctrl-C reaches the demo through the terminal's process group; the demo tears the cluster down and exits.
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => undefined);
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
