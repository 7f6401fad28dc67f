import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Test } from "uvu";

/** What a kernel or integration test may need from the machine. */
export type Requirement = "root" | "nft" | "ip" | "bridge" | "redis-server" | "conntrack" | "iperf3" | "cc" | "ipvs" | "host-local";

function hasCommand(cmd: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => d !== "" && existsSync(join(d, cmd)));
}

const CHECKS: Record<Requirement, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : "needs root (network namespaces)"),
  nft: () => (hasCommand("nft") ? undefined : "needs nft (Debian package nftables)"),
  ip: () => (hasCommand("ip") ? undefined : "needs ip (Debian package iproute2)"),
  bridge: () => (hasCommand("bridge") ? undefined : "needs bridge (Debian package iproute2)"),
  "redis-server": () => (hasCommand("redis-server") ? undefined : "needs redis-server (Debian package redis-server)"),
  conntrack: () => (hasCommand("conntrack") ? undefined : "needs conntrack (Debian package conntrack)"),
  iperf3: () => (hasCommand("iperf3") ? undefined : "needs iperf3 (Debian package iperf3)"),
  cc: () => (hasCommand("cc") ? undefined : "needs a C compiler (Debian package build-essential)"),
  ipvs: () => (existsSync("/proc/net/ip_vs") ? undefined : "needs IPVS, which this kernel lacks (/proc/net/ip_vs is absent)"),
  "host-local": () =>
    existsSync("/usr/lib/cni/host-local") ? undefined : "needs the reference CNI plugins (Debian package containernetworking-plugins)",
};

/** The first unmet requirement, as a sentence, or undefined when all are met. */
export function missingRequirement(needs: readonly Requirement[]): string | undefined {
  for (const need of needs) {
    const reason = CHECKS[need]();
    if (reason) return reason;
  }
  return undefined;
}

/** Options for {@linkcode kernelTest}. */
export interface KernelTestOptions {
  /** What the tests need; @default ["root", "ip"] */
  needs?: readonly Requirement[];
}

/**
 * Wraps a uvu suite so that its tests run only when the machine has what they need.
 * Otherwise each test is registered as skipped (uvu counts it in "Skipped") and the
 * reason is printed once, so a missing capability is never reported as a pass.
 */
export function kernelTest(suite: Test, options: KernelTestOptions = {}): Test {
  const reason = missingRequirement(options.needs ?? ["root", "ip"]);
  if (!reason) return suite;
  let told = false;
  const skipping = ((name: string) => {
    if (!told) process.stdout.write(`\n  SKIP  ${reason}\n`);
    told = true;
    process.stdout.write(`  skip: ${name}\n`);
    suite.skip(name);
  }) as unknown as Test;
  return Object.assign(skipping, suite, { only: skipping, skip: suite.skip });
}
