#!/usr/bin/env node
// First-run bootstrap for `npm test`, `npm run demo` and `npm run bench` on a fresh clone.
// Pure Node, no npm dependencies (it runs before they exist):
//   1. as root, installs the Debian packages Weft needs when a command is missing;
//   2. installs the npm dependencies (npm ci) when node_modules is missing or stale;
//   3. builds what the tests run as real binaries (the CNI forwarder, native addons).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg) => process.stderr.write(`bootstrap: ${msg}\n`);

// command -> Debian package that provides it
const DEBIAN = {
  ip: "iproute2",
  bridge: "iproute2",
  nft: "nftables",
  conntrack: "conntrack",
  "redis-server": "redis-server",
  iperf3: "iperf3",
  cc: "build-essential",
  make: "build-essential",
  python3: "python3",
  ping: "iputils-ping",
  "redis-cli": "redis-tools",
  nsenter: "util-linux",
};
const DEBIAN_FILES = { "/usr/lib/cni/host-local": "containernetworking-plugins", "/usr/lib/cni/bridge": "containernetworking-plugins" };

function hasCommand(cmd) {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => d && existsSync(join(d, cmd)));
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}`);
}

function installDebianPackages() {
  const missing = new Set();
  for (const [cmd, pkg] of Object.entries(DEBIAN)) if (!hasCommand(cmd)) missing.add(pkg);
  for (const [file, pkg] of Object.entries(DEBIAN_FILES)) if (!existsSync(file)) missing.add(pkg);
  if (missing.size === 0) return;
  if (process.getuid?.() !== 0) {
    log(`not root: cannot install ${[...missing].join(" ")}; tests that need them will skip`);
    return;
  }
  log(`installing Debian packages: ${[...missing].join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], { env });
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
  // Debian starts redis-server as a service on install; tests start their own on random ports.
  spawnSync("systemctl", ["disable", "--now", "redis-server"], { stdio: "ignore" });
}

function installNpmDependencies() {
  const lock = join(root, "package-lock.json");
  const marker = join(root, "node_modules", ".package-lock.json");
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
  if (!stale) return;
  log("installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

function buildNativeParts() {
  // Projects that produce native binaries list them here with the script that builds them.
  const pkgs = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).weftNative ?? [];
  for (const { project, script } of pkgs) {
    if (!existsSync(join(root, project))) continue;
    run("npm", ["run", "--silent", script, "-w", project]);
  }
}

try {
  installDebianPackages();
  installNpmDependencies();
  buildNativeParts();
} catch (err) {
  log(`failed: ${err.message}`);
  process.exit(1);
}
