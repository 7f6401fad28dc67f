// Shared by the iproute-batch and vxlan-peers benchmarks (underscore: not a benchmark itself).
import { spawn } from "node:child_process";

/** Runs argv (no shell) with `input` on stdin and resolves with stdout; rejects with stderr on a non-zero exit. */
export function run(argv: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.stderr.on("data", (b: Buffer) => (err += b));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(" ")}: ${err.trim()}`))));
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}
