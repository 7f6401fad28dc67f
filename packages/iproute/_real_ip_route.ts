import { readFile, writeFile } from "node:fs/promises";
import { IpRouteBase } from "./_base.ts";
import { batchFailureReports, parseJsonArray, parseMonitorLine, toAddresses, toFdb, toLink, toNeighbour, toRoute } from "./_parse.ts";
import { checkIfname, checkIp, checkNetnsHandle, checkSysctlKey, checkSysctlValue } from "./_validate.ts";
import { scriptOf, type Batch, type BatchCommand, type BatchSegment, type BatchTool } from "./batch.ts";
import type {
  ApplyOptions, ListAddressesOptions, ListFdbOptions, ListLinksOptions, ListNeighboursOptions, ListRoutesOptions, MonitorOptions,
} from "./ip_route.ts";
import { BatchError, classifyStderr, IpRouteError } from "./ip_route_error.ts";
import type { Address, Exec, FdbEntry, IpEvent, IpFamily, Link, Neighbour, Route } from "./types.ts";

const NETNS_RUN_DIR = "/var/run/netns";
const MONITOR_WORDS = { link: "link", address: "address", route: "route", neigh: "neigh" } as const;

/** Settings of the real implementation (see `createIpRoute`). */
export interface RealIpRouteSettings {
  readonly netns: string | undefined;
  readonly exec: Exec;
  readonly timeoutMs: number;
}

/** Removes iproute2's decorations: `Error: `, `RTNETLINK answers: `, a trailing period. */
export function cleanDetail(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.replace(/^(Error: |RTNETLINK answers: |nsenter: )/, "").replace(/\.$/, ""))
    .join("; ");
}

/** The real `IpRoute` over the `ip`, `bridge`, `nsenter` and `sysctl` programs. */
export class RealIpRoute extends IpRouteBase {
  readonly netns: string | undefined;
  readonly #exec: Exec;
  readonly #timeoutMs: number;
  /** `-n <name>` when the namespace has a name, else undefined. */
  readonly #name: string | undefined;
  /** Path for nsenter. */
  readonly #path: string | undefined;

  constructor(settings: RealIpRouteSettings) {
    super();
    this.#exec = settings.exec;
    this.#timeoutMs = settings.timeoutMs;
    if (settings.netns === undefined) {
      this.netns = undefined;
    } else {
      const ns = checkNetnsHandle(settings.netns);
      this.netns = ns;
      const named = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(ns);
      if (!ns.startsWith("/")) {
        this.#name = ns;
        this.#path = `${NETNS_RUN_DIR}/${ns}`;
      } else if (named && named[1]) {
        this.#name = named[1];
        this.#path = ns;
      } else {
        this.#path = ns;
      }
    }
  }

  /** argv prefix for a tool in this namespace. */
  argv(tool: BatchTool | "sysctl", ...rest: string[]): string[] {
    if (tool !== "sysctl" && this.#name !== undefined) return [tool, "-n", this.#name, ...rest];
    if (this.#path !== undefined) return ["nsenter", `--net=${this.#path}`, tool, ...rest];
    return [tool, ...rest];
  }

  async apply(batch: Batch, options: ApplyOptions = {}): Promise<void> {
    if (batch.error) throw batch.error;
    const failures: IpRouteError[] = [];
    for (const segment of batch.segments()) {
      const segFailures = await this.runSegment(segment, options.continueOnError === true);
      failures.push(...segFailures);
      if (segFailures.length && !options.continueOnError) break;
    }
    if (failures.length) throw new BatchError(failures, batch.size);
  }

  /** Runs one segment as its own process and returns its failures (empty on success). */
  async runSegment(segment: BatchSegment, force: boolean): Promise<IpRouteError[]> {
    const argv = this.argv(segment.tool, ...segment.flags, ...(force ? ["-force"] : []), "-batch", "-");
    const res = await this.#run(argv, scriptOf(segment), segment.commands[0]);
    if (res.code === 0) return [];
    const failures = this.failuresOf(res.stderr, (file, line) => (file === "-" ? segment.commands[line - 1] : undefined));
    if (failures.length === 0) {
      // The tool failed before running any line (missing namespace, nsenter error, ...).
      const first = segment.commands[0];
      if (first) failures.push(this.#error(first, res.stderr || `exit code ${res.code}`));
    }
    return failures;
  }

  /**
   * The failures that iproute2's stderr reports as `Command failed <file>:<line>`, each with the
   * text printed before it; `commandAt` maps a file and 1-based line to the command it ran.
   */
  failuresOf(stderr: string, commandAt: (file: string, line: number) => BatchCommand | undefined): IpRouteError[] {
    const failures: IpRouteError[] = [];
    const seen = new Set<number>();
    for (const report of batchFailureReports(stderr)) {
      const cmd = commandAt(report.file, report.line);
      if (cmd && !seen.has(cmd.index)) {
        seen.add(cmd.index);
        failures.push(this.#error(cmd, report.text));
      }
    }
    return failures;
  }

  /** The error of one failed command in this namespace. */
  commandError(cmd: BatchCommand, stderr: string): IpRouteError {
    return this.#error(cmd, stderr);
  }

  #error(cmd: BatchCommand, stderr: string): IpRouteError {
    const detail = cleanDetail(stderr) || "failed";
    return new IpRouteError(classifyStderr(stderr), cmd.args.join(" "), detail, {
      ...(cmd.device !== undefined ? { device: cmd.device } : {}),
      ...(this.netns !== undefined ? { netns: this.netns } : {}),
      stderr: stderr.trim(),
      index: cmd.index,
    });
  }

  async #run(argv: string[], input: string | undefined, about?: BatchCommand, opName?: string) {
    try {
      return await this.#exec.run(argv, { ...(input !== undefined ? { input } : {}), timeoutMs: this.#timeoutMs });
    } catch (err) {
      throw new IpRouteError("Failed", about ? about.args.join(" ") : opName ?? argv.join(" "), (err as Error).message, {
        ...(about?.device !== undefined ? { device: about.device } : {}),
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        cause: err,
      });
    }
  }

  /** Runs a read command and returns stdout; throws IpRouteError on a non-zero exit. */
  async #read(argv: string[], op: string, device?: string): Promise<string> {
    const res = await this.#run(argv, undefined, undefined, op);
    if (res.code !== 0) {
      throw new IpRouteError(classifyStderr(res.stderr), op, cleanDetail(res.stderr) || `exit code ${res.code}`, {
        ...(device !== undefined ? { device } : {}),
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        stderr: res.stderr.trim(),
      });
    }
    return res.stdout;
  }

  protected async listLinks(options: ListLinksOptions): Promise<Link[]> {
    const out = await this.#read(this.argv("ip", "-d", "-json", "link", "show"), "link show");
    let links = parseJsonArray(out, "link").map(toLink);
    if (options.kind !== undefined) links = links.filter((l) => l.kind === options.kind);
    if (options.master !== undefined) links = links.filter((l) => l.master === options.master);
    return links;
  }

  protected async getLink(name: string): Promise<Link | undefined> {
    checkIfname(name);
    const res = await this.#run(this.argv("ip", "-d", "-json", "link", "show", "dev", name), undefined, undefined, `link show dev ${name}`);
    if (res.code !== 0) {
      if (classifyStderr(res.stderr) === "NotFound") return undefined;
      throw new IpRouteError(classifyStderr(res.stderr), `link show dev ${name}`, cleanDetail(res.stderr), { device: name, stderr: res.stderr.trim(), ...(this.netns !== undefined ? { netns: this.netns } : {}) });
    }
    const first = parseJsonArray(res.stdout, "link")[0];
    return first ? toLink(first) : undefined;
  }

  protected async listAddresses(options: ListAddressesOptions): Promise<Address[]> {
    const args = [...famFlag(options.family), "-json", "addr", "show"];
    if (options.dev !== undefined) args.push("dev", checkIfname(options.dev, "dev"));
    const out = await this.#read(this.argv("ip", ...args), args.slice(-3).join(" "), options.dev);
    return parseJsonArray(out, "address").flatMap(toAddresses).filter((a) => options.family === undefined || a.family === options.family);
  }

  protected async listRoutes(options: ListRoutesOptions): Promise<Route[]> {
    const families: IpFamily[] = options.family ? [options.family] : [4, 6];
    const table = options.table ?? "main";
    const lists = await Promise.all(
      families.map(async (family) => {
        const args = [`-${family}`, "-json", "route", "show", "table", String(table)];
        if (options.dev !== undefined) args.push("dev", checkIfname(options.dev, "dev"));
        const out = await this.#read(this.argv("ip", ...args), `route show table ${table}`, options.dev);
        const tableDefault = table === "all" ? "main" : String(table);
        return parseJsonArray(out, "route").map((j) => {
          const r = toRoute(j, family, tableDefault);
          return options.dev !== undefined && r.dev === undefined ? { ...r, dev: options.dev } : r;
        });
      }),
    );
    return lists.flat();
  }

  protected async getRoute(address: string): Promise<Route | undefined> {
    const ip = checkIp(address, "address");
    const family: IpFamily = ip.includes(":") ? 6 : 4;
    const res = await this.#run(this.argv("ip", "-json", "route", "get", ip), undefined, undefined, `route get ${ip}`);
    if (res.code !== 0) {
      const kind = classifyStderr(res.stderr);
      if (kind === "Unreachable" || kind === "NotFound") return undefined;
      throw new IpRouteError(kind, `route get ${ip}`, cleanDetail(res.stderr), { stderr: res.stderr.trim(), ...(this.netns !== undefined ? { netns: this.netns } : {}) });
    }
    const first = parseJsonArray(res.stdout, "route")[0];
    return first ? toRoute(first, family) : undefined;
  }

  protected async listNeighbours(options: ListNeighboursOptions): Promise<Neighbour[]> {
    const args = [...famFlag(options.family), "-json", "neigh", "show"];
    if (options.dev !== undefined) args.push("dev", checkIfname(options.dev, "dev"));
    const out = await this.#read(this.argv("ip", ...args), "neigh show", options.dev);
    return parseJsonArray(out, "neighbour").flatMap((j) => toNeighbour(j, options.dev) ?? []);
  }

  protected async listFdb(options: ListFdbOptions): Promise<FdbEntry[]> {
    const args = ["-json", "fdb", "show"];
    if (options.dev !== undefined) args.push("dev", checkIfname(options.dev, "dev"));
    const out = await this.#read(this.argv("bridge", ...args), "fdb show", options.dev);
    return parseJsonArray(out, "fdb").flatMap((j) => toFdb(j, options.dev) ?? []);
  }

  protected async sysctlGet(rawKey: string): Promise<string> {
    const key = checkSysctlKey(rawKey);
    if (this.#path === undefined) {
      try {
        return (await readFile(`/proc/sys/${key}`, "utf8")).trim();
      } catch (err) {
        throw new IpRouteError(classifyStderr((err as Error).message), `sysctl get ${key}`, (err as Error).message, { cause: err });
      }
    }
    return (await this.#read(this.argv("sysctl", "-n", key), `sysctl get ${key}`)).trim();
  }

  protected async sysctlSet(rawKey: string, rawValue: string | number): Promise<void> {
    const key = checkSysctlKey(rawKey);
    const value = checkSysctlValue(rawValue);
    if (this.#path === undefined) {
      try {
        await writeFile(`/proc/sys/${key}`, value);
      } catch (err) {
        throw new IpRouteError(classifyStderr((err as Error).message), `sysctl set ${key}=${value}`, (err as Error).message, { cause: err });
      }
      return;
    }
    await this.#read(this.argv("sysctl", "-q", "-w", `${key}=${value}`), `sysctl set ${key}=${value}`);
  }

  async *monitor(options: MonitorOptions = {}): AsyncGenerator<IpEvent> {
    const objects = options.objects ?? ["link"];
    if (objects.length === 0) throw new TypeError("monitor objects must not be empty");
    const words = objects.map((o) => {
      const w = MONITOR_WORDS[o];
      if (!w) throw new TypeError(`monitor object must be link, address, route or neigh, got ${JSON.stringify(o)}`);
      return w;
    });
    const argv = this.argv("ip", "-o", "monitor", "label", ...words);
    const lines = this.#exec.lines(argv, options.signal ? { signal: options.signal } : {});
    for await (const line of lines) {
      const ev = parseMonitorLine(line);
      if (ev && objects.includes(ev.type)) yield ev;
    }
  }
}

function famFlag(family: IpFamily | undefined): string[] {
  if (family === undefined) return [];
  if (family !== 4 && family !== 6) throw new TypeError(`family must be 4 or 6, got ${JSON.stringify(family)}`);
  return [`-${family}`];
}
