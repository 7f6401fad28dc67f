// The runtime side of the `cni` benchmark: a bash driver that execs CNI plugins exactly as
// shared/tools/cnibench.sh does (env + config on stdin, timed with $EPOCHREALTIME around the exec
// only; the pod namespaces are created beforehand, outside the timings), run INSIDE a throwaway
// "host" namespace so bridges and host veths never touch the root namespace.
//
// This machine is shared and its load swings within seconds, so the two plugins are interleaved:
// sequential phases alternate reference/ours pod by pod, and the parallel phases run twice in
// ABBA order (reference, ours, ours, reference).
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DRIVER = String.raw`#!/usr/bin/env bash
# usage: driver.sh REF_PLUGIN REF_CONF OURS_PLUGIN OURS_CONF PREFIX SEQ_N PAR_N PAR_J OUT
set -euo pipefail
export LC_ALL=C
unset NODE_EXTRA_CA_CERTS
REF_PLUGIN=$1 REF_CONF=$2 OURS_PLUGIN=$3 OURS_CONF=$4 PREFIX=$5 SEQ_N=$6 PAR_N=$7 PAR_J=$8 OUT=$9
export REF_PLUGIN REF_CONF OURS_PLUGIN OURS_CONF PREFIX OUT
mkdir -p "$OUT/res"
cni_exec() { # side(r|o) cmd pod timingfile
  local plugin conf t0 t1 rc=0 cid=$PREFIX$1-$3
  if [ "$1" = r ]; then plugin=$REF_PLUGIN conf=$REF_CONF; else plugin=$OURS_PLUGIN conf=$OURS_CONF; fi
  t0=$EPOCHREALTIME
  CNI_COMMAND=$2 CNI_CONTAINERID=$cid CNI_NETNS=/run/netns/$cid CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
    "$plugin" < "$conf" > "$OUT/res/$cid.$2.json" 2> "$OUT/res/$cid.$2.err" || rc=$?
  t1=$EPOCHREALTIME
  echo "$t0 $t1 $rc $cid" >> "$4"
}
export -f cni_exec
par() { # side cmd from to
  local ta tb
  ta=$EPOCHREALTIME
  seq "$3" "$4" | xargs -P "$PAR_J" -I{} bash -c "cni_exec $1 $2 p-{} \"\$OUT/$2-par-$1.tsv\""
  tb=$EPOCHREALTIME
  echo "$ta $tb" >> "$OUT/$2-par-$1.wall"
}
addr_of() { grep -o '"address": *"[0-9.]*' "$OUT/res/$PREFIX$1.ADD.json" | head -1 | cut -d'"' -f4 || true; }
for s in r o; do
  cni_exec $s ADD w-0 "$OUT/first-add-$s.tsv"
  cni_exec $s DEL w-0 "$OUT/first-del-$s.tsv"
done
for i in $(seq 1 "$SEQ_N"); do
  cni_exec r ADD "s-$i" "$OUT/ADD-seq-r.tsv"
  cni_exec o ADD "s-$i" "$OUT/ADD-seq-o.tsv"
done
for s in r o; do
  if ip netns exec "$PREFIX$s-s-1" ping -c 1 -W 1 "$(addr_of "$s-s-2")" > /dev/null 2>&1 && ping -c 1 -W 1 "$(addr_of "$s-s-1")" > /dev/null 2>&1; then
    echo ok > "$OUT/ping-$s"
  else echo failed > "$OUT/ping-$s"; fi
done
par r ADD 1 "$PAR_N"; par o ADD 1 "$PAR_N"; par o ADD $((PAR_N + 1)) $((2 * PAR_N)); par r ADD $((PAR_N + 1)) $((2 * PAR_N))
for i in $(seq 1 "$SEQ_N"); do
  cni_exec r DEL "s-$i" "$OUT/DEL-seq-r.tsv"
  cni_exec o DEL "s-$i" "$OUT/DEL-seq-o.tsv"
done
par r DEL 1 "$PAR_N"; par o DEL 1 "$PAR_N"; par o DEL $((PAR_N + 1)) $((2 * PAR_N)); par r DEL $((PAR_N + 1)) $((2 * PAR_N))
`;

export interface SideResult {
  addSeqMs: number[];
  addParMs: number[];
  /** Pods per second over both parallel ADD rounds. */
  addParPodsPerS: number;
  delSeqMs: number[];
  delParPodsPerS: number;
  failures: number;
  /** stdout of the first failed call, e.g. `cnibench…-s-3.ADD: {"code":…}`. */
  firstFailure: string | undefined;
  ping: string;
  firstAddMs: number;
}

function tsv(path: string): { ms: number[]; failures: number; failed: string[] } {
  const rows = readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(" "));
  const failed = rows.filter((r) => r[2] !== "0").map((r) => r[3]!);
  return { ms: rows.map((r) => (Number(r[1]) - Number(r[0])) * 1000), failures: failed.length, failed };
}

function firstFailure(out: string, parts: Array<{ failed: string[] }>, cmds: string[]): string | undefined {
  for (const [i, p] of parts.entries()) {
    const cid = p.failed[0];
    if (!cid) continue;
    let text = "";
    try {
      text = readFileSync(join(out, "res", `${cid}.${cmds[i]}.json`), "utf8") + readFileSync(join(out, "res", `${cid}.${cmds[i]}.err`), "utf8");
    } catch {
      // keep it empty
    }
    return `${cid}.${cmds[i]}: ${text.replace(/\s+/g, " ").slice(0, 400)}`;
  }
  return undefined;
}

function rate(path: string, pods: number): number {
  const total = readFileSync(path, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number)).reduce((s, [a, b]) => s + (b! - a!), 0);
  return pods / total;
}

/** The pod namespaces one side needs (created before the driver runs, from the root mount namespace). */
export function podNames(prefix: string, side: "r" | "o", seqN: number, parN: number): string[] {
  const names = [`${prefix}${side}-w-0`];
  for (let i = 1; i <= seqN; i++) names.push(`${prefix}${side}-s-${i}`);
  for (let i = 1; i <= 2 * parN; i++) names.push(`${prefix}${side}-p-${i}`);
  return names;
}

/** Runs the driver inside `hostNetns` (with `ip netns exec`), bounded in time. */
export function runDriver(options: {
  hostNetns: string; refPlugin: string; refConf: string; oursPlugin: string; oursConf: string; prefix: string; out: string; seqN: number; parN: number; parJ: number; timeoutMs: number;
}): Promise<{ ref: SideResult; ours: SideResult }> {
  mkdirSync(options.out, { recursive: true });
  for (const side of ["r", "o"] as const) for (const n of podNames(options.prefix, side, options.seqN, options.parN)) execFileSync("ip", ["netns", "add", n]);
  const script = join(options.out, "driver.sh");
  writeFileSync(script, DRIVER, { mode: 0o755 });
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const args = [options.refPlugin, options.refConf, options.oursPlugin, options.oursConf, options.prefix, String(options.seqN), String(options.parN), String(options.parJ), options.out];
  return new Promise((resolve, reject) => {
    execFile("ip", ["netns", "exec", options.hostNetns, "bash", script, ...args], { env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) return reject(new Error(`cni bench driver failed: ${stderr || err.message}`));
      const o = options.out;
      const side = (s: "r" | "o"): SideResult => {
        const parts = [tsv(join(o, `ADD-seq-${s}.tsv`)), tsv(join(o, `ADD-par-${s}.tsv`)), tsv(join(o, `DEL-seq-${s}.tsv`)), tsv(join(o, `DEL-par-${s}.tsv`)), tsv(join(o, `first-add-${s}.tsv`))];
        return {
          addSeqMs: parts[0]!.ms, addParMs: parts[1]!.ms, addParPodsPerS: rate(join(o, `ADD-par-${s}.wall`), 2 * options.parN),
          delSeqMs: parts[2]!.ms, delParPodsPerS: rate(join(o, `DEL-par-${s}.wall`), 2 * options.parN),
          failures: parts.reduce((n, p) => n + p.failures, 0),
          firstFailure: firstFailure(o, parts, ["ADD", "ADD", "DEL", "DEL", "ADD"]),
          ping: readFileSync(join(o, `ping-${s}`), "utf8").trim(),
          firstAddMs: parts[4]!.ms[0] ?? NaN,
        };
      };
      resolve({ ref: side("r"), ours: side("o") });
    });
  });
}
