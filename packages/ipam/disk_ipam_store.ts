/**
 * host-local's on-disk state (containernetworking/plugins plugins/ipam/host-local/backend/disk), read and
 * written compatibly, so state written by the reference plugin is read correctly and vice versa:
 *
 * - `<dir>/<ip>`: one file per reserved address, named by the canonical address text (Go's
 *   `net.IP.String()`), content `<containerId>\r\n<ifname>` without a trailing newline; files of old
 *   host-local versions hold only `<containerId>`.
 * - `<dir>/last_reserved_ip.<n>`: the last address reserved in range set n, as text.
 * - `<dir>` is host-local's `<dataDir>/<network name>` (default dataDir `/var/lib/cni/networks`).
 *
 * Atomicity: a reservation is the exclusive creation of its file (`open(path, "wx")`, O_CREAT|O_EXCL), the
 * same claim host-local makes, so two processes (ours or host-local) never hand out one address twice.
 * Node has no flock, so we do not take host-local's `<dir>/lock`: the exclusive create alone keeps
 * addresses unique. Without the lock, `last_reserved_ip.<n>` may be written by two processes at once;
 * at worst round-robin restarts from another address (it never causes a double allocation).
 *
 * Speed: the directory is read once into an in-memory index (address → owner). `reserve` skips addresses
 * the index knows are taken and learns from a failed exclusive create; a stale index entry costs one retry.
 * Nothing scans the directory per call; `sync()` re-reads it (the allocator does so only when it finds
 * nothing free, or an attachment is not in the index).
 */
import { constants, mkdir, open, readdir, readFile, rm, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { formatOwner, heldBy, parseOwner } from "./_reservation.ts";
import { compareIp } from "./compare_ip.ts";
import { tryParseIp } from "./parse_ip.ts";
import type { IpAddr, IpamAttachment, IpamReleaseOptions, IpamReservation, IpamReserveOptions, IpamStore, IpamSyncOptions } from "./types.ts";

/** Options for {@linkcode DiskIpamStore}. */
export interface DiskIpamStoreOptions {
  /** Mode of new reservation and last_reserved_ip files (host-local: 0644 in v1.1.1, 0600 later). @default 0o600 */
  fileMode?: number;
  /** How many files `sync()` reads at once. @default 32 */
  readConcurrency?: number;
}

interface Entry {
  ip: IpAddr;
  /** undefined: taken, owner not known (yet). */
  containerId: string | undefined;
  ifname: string | undefined;
  /** Being created by this process. */
  pending: boolean;
  /** Bumped on every change, so a concurrent sync() keeps newer entries. */
  seq: number;
}

const LAST_RESERVED = "last_reserved_ip.";
const LAST_FILE_IDLE_MS = 1000;

/** The file name of an address: its canonical text, which must be what the caller passed (no path tricks). */
function fileName(ip: IpAddr): string {
  const parsed = typeof ip?.address === "string" ? tryParseIp(ip.address) : undefined;
  if (!parsed || parsed.address !== ip.address || parsed.family !== ip.family) {
    throw new TypeError(`ip must be a canonical IpAddr (from parseIp), got ${JSON.stringify(ip)}`);
  }
  return ip.address;
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/**
 * An {@linkcode IpamStore} in a directory, in host-local's format. Safe for concurrent use within one
 * process and across processes.
 *
 * @example
 * ```ts
 * const store = new DiskIpamStore("/var/lib/cni/networks/cbr0");
 * const alloc = new PodIpAllocator(store, { ranges: [{ subnet: "10.244.1.0/24" }] });
 * ```
 */
export class DiskIpamStore implements IpamStore {
  /** The state directory (host-local's `<dataDir>/<network name>`). */
  readonly dir: string;
  readonly #fileMode: number;
  readonly #readConcurrency: number;
  readonly #index = new Map<string, Entry>();
  /** containerId -> names of its entries, so lookups by attachment do not walk the index. */
  readonly #byId = new Map<string, Set<string>>();
  #seq = 0;
  #loaded: Promise<void> | undefined;
  #closed = false;
  readonly #lastFiles = new Map<number, Promise<FileHandle>>();
  readonly #lastWrites = new Map<number, Promise<void>>();
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(dir: string, options: DiskIpamStoreOptions = {}) {
    if (typeof dir !== "string" || dir === "") throw new TypeError("dir must be a non-empty path");
    this.dir = dir;
    this.#fileMode = options.fileMode ?? 0o600;
    this.#readConcurrency = options.readConcurrency ?? 32;
  }

  #ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`DiskIpamStore ${this.dir} is closed`));
    if (!this.#loaded) {
      this.#loaded = this.#load().catch((err: unknown) => {
        this.#loaded = undefined;
        throw err;
      });
    }
    return this.#loaded;
  }

  async #load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    await this.#scan();
  }

  async reserve(ip: IpAddr, attachment: IpamAttachment, options: IpamReserveOptions = {}): Promise<boolean> {
    await this.#ready();
    const name = fileName(ip);
    if (this.#index.has(name)) return false;
    const entry: Entry = { ip, containerId: undefined, ifname: undefined, pending: true, seq: ++this.#seq };
    this.#put(name, entry);
    const path = join(this.dir, name);
    let created = false;
    try {
      const fh = await open(path, "wx", this.#fileMode);
      created = true;
      try {
        await fh.writeFile(formatOwner(attachment));
      } finally {
        await fh.close();
      }
      await this.#writeLast(options.rangeSetIndex ?? 0, ip);
    } catch (err) {
      if (!created && isCode(err, "EEXIST")) {
        // Taken by another process (or state the index had not seen): learn it, owner unknown.
        this.#put(name, { ...entry, pending: false, seq: ++this.#seq });
        return false;
      }
      if (this.#index.get(name) === entry) this.#del(name);
      if (created) await rm(path, { force: true }).catch(() => undefined);
      throw err;
    }
    this.#put(name, {
      ip,
      containerId: attachment.containerId.trim(),
      ifname: attachment.ifname,
      pending: false,
      seq: ++this.#seq,
    });
    return true;
  }

  // last_reserved_ip.<n> is rewritten in place through a file handle kept open (truncate, then write at 0),
  // like host-local's os.WriteFile but without an open/close per allocation: on ext4, closing a truncated
  // file (or renaming over one) forces a flush that costs about a millisecond. A reader racing the
  // write sees an empty file, which means "no last reserved address" (a round-robin restart, never a
  // wrong address). sync() and errors reopen the handle (e.g. after the file was replaced or removed).
  async #writeLast(rangeSetIndex: number, ip: IpAddr, retry = true): Promise<void> {
    let fh = this.#lastFiles.get(rangeSetIndex);
    if (!fh) {
      const opening = open(join(this.dir, LAST_RESERVED + rangeSetIndex), constants.O_RDWR | constants.O_CREAT, this.#fileMode).then((h) => {
        if (this.#closed) {
          void h.close();
          throw new Error(`DiskIpamStore ${this.dir} is closed`);
        }
        return h;
      });
      fh = opening;
      this.#lastFiles.set(rangeSetIndex, opening);
      opening.catch(() => this.#lastFiles.delete(rangeSetIndex));
    }
    const handle = await fh;
    // Serialise writers of one file within this process, so truncate+write pairs do not interleave.
    const prev = this.#lastWrites.get(rangeSetIndex) ?? Promise.resolve();
    const write = prev.then(async () => {
      // The file was removed or replaced (rename) under us: write through a fresh handle.
      if ((await handle.stat()).nlink === 0) return false;
      await handle.truncate(0);
      await handle.write(ip.address, 0);
      return true;
    });
    this.#lastWrites.set(rangeSetIndex, write.then(() => undefined, () => undefined));
    let written: boolean;
    try {
      written = await write;
    } catch (err) {
      this.#dropLastFile(rangeSetIndex);
      throw err;
    }
    if (!written) {
      if (this.#lastFiles.get(rangeSetIndex) === fh) this.#dropLastFile(rangeSetIndex);
      if (retry) await this.#writeLast(rangeSetIndex, ip, false);
    }
    this.#armIdleClose();
  }

  // Handles are closed after a quiet second, so a store dropped without close() leaks no descriptor
  // (the timer is unref'd: it never keeps the process alive).
  #armIdleClose(): void {
    if (this.#idleTimer) this.#idleTimer.refresh();
    else {
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        for (const i of [...this.#lastFiles.keys()]) this.#dropLastFile(i);
      }, LAST_FILE_IDLE_MS);
      this.#idleTimer.unref();
    }
  }

  #dropLastFile(rangeSetIndex: number): void {
    const fh = this.#lastFiles.get(rangeSetIndex);
    this.#lastFiles.delete(rangeSetIndex);
    void fh?.then((h) => h.close()).catch(() => undefined);
  }

  async lastReserved(rangeSetIndex: number): Promise<IpAddr | undefined> {
    await this.#ready();
    let text: string;
    try {
      text = await readFile(join(this.dir, LAST_RESERVED + rangeSetIndex), "utf8");
    } catch (err) {
      if (isCode(err, "ENOENT")) return undefined;
      throw err;
    }
    return tryParseIp(text.trim());
  }

  async release(ip: IpAddr, options: IpamReleaseOptions = {}): Promise<boolean> {
    await this.#ready();
    const name = fileName(ip);
    const path = join(this.dir, name);
    const entry = this.#index.get(name);
    if (entry?.pending) return false; // being reserved right now by this process
    if (options.owner) {
      let content: string;
      try {
        content = await readFile(path, "utf8");
      } catch (err) {
        if (!isCode(err, "ENOENT")) throw err;
        this.#forget(name, entry);
        return false;
      }
      const owner = parseOwner(content);
      if (!heldBy(owner, options.owner)) {
        if (this.#index.get(name) === entry) this.#put(name, { ip, ...owner, pending: false, seq: ++this.#seq });
        return false;
      }
    }
    try {
      await unlink(path);
    } catch (err) {
      if (!isCode(err, "ENOENT")) throw err;
      this.#forget(name, entry);
      return false;
    }
    this.#forget(name, entry);
    return true;
  }

  #put(name: string, entry: Entry): void {
    const old = this.#index.get(name);
    if (old?.containerId !== undefined && old.containerId !== entry.containerId) this.#unlinkId(old.containerId, name);
    this.#index.set(name, entry);
    if (entry.containerId !== undefined) {
      let names = this.#byId.get(entry.containerId);
      if (!names) this.#byId.set(entry.containerId, (names = new Set()));
      names.add(name);
    }
  }

  #del(name: string): void {
    const old = this.#index.get(name);
    if (old?.containerId !== undefined) this.#unlinkId(old.containerId, name);
    this.#index.delete(name);
  }

  #unlinkId(containerId: string, name: string): void {
    const names = this.#byId.get(containerId);
    names?.delete(name);
    if (names?.size === 0) this.#byId.delete(containerId);
  }

  #forget(name: string, entry: Entry | undefined): void {
    if (this.#index.get(name) === entry) this.#del(name);
  }

  /**
   * Looks the attachment up in the in-memory index and confirms each hit by reading its file (so a
   * release by another process is noticed). Reservations made by other processes since the last
   * `sync()` are not seen: call `sync()` first when that matters (the allocator does when this finds nothing).
   */
  async findByAttachment(attachment: IpamAttachment): Promise<IpamReservation[]> {
    await this.#ready();
    const hits: Array<[string, Entry]> = [];
    for (const name of this.#byId.get(attachment.containerId.trim()) ?? []) {
      const e = this.#index.get(name);
      if (e && !e.pending && heldBy(e, attachment)) hits.push([name, e]);
    }
    const out: IpamReservation[] = [];
    for (const [name, e] of hits) {
      let content: string;
      try {
        content = await readFile(join(this.dir, name), "utf8");
      } catch (err) {
        if (!isCode(err, "ENOENT")) throw err;
        this.#forget(name, e);
        continue;
      }
      const owner = parseOwner(content);
      if (heldBy(owner, attachment)) out.push({ ip: e.ip, ...owner });
      else if (this.#index.get(name) === e) this.#put(name, { ip: e.ip, ...owner, pending: false, seq: ++this.#seq });
    }
    return out.sort((a, b) => compareIp(a.ip, b.ip));
  }

  /** From the in-memory index: call `sync()` first to see other processes' changes. */
  async list(): Promise<IpamReservation[]> {
    await this.#ready();
    const out: IpamReservation[] = [];
    for (const e of this.#index.values()) if (!e.pending) out.push({ ip: e.ip, containerId: e.containerId, ifname: e.ifname });
    return out.sort((a, b) => compareIp(a.ip, b.ip));
  }

  /**
   * Re-reads the directory: files that appeared or vanished, and the owners of entries whose owner is not
   * known; with `full`, every file's owner (catches an address released and re-taken by another process).
   */
  async sync(options: IpamSyncOptions = {}): Promise<void> {
    await this.#ready();
    for (const i of [...this.#lastFiles.keys()]) this.#dropLastFile(i);
    await this.#scan(options.full ?? false);
  }

  async #scan(full = true): Promise<void> {
    const started = ++this.#seq;
    const names = (await readdir(this.dir)).filter((n) => tryParseIp(n)?.address === n);
    const seen = new Set(names);
    const toRead = full
      ? names
      : names.filter((n) => {
          const e = this.#index.get(n);
          return !e || (!e.pending && e.containerId === undefined);
        });
    const found = new Map<string, Entry>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toRead.length) {
        const name = toRead[next++]!;
        let content: string;
        try {
          content = await readFile(join(this.dir, name), "utf8");
        } catch {
          seen.delete(name); // removed meanwhile, or not a readable file
          continue;
        }
        found.set(name, { ip: tryParseIp(name)!, ...parseOwner(content), pending: false, seq: started });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.#readConcurrency) }, worker));
    for (const [name, e] of this.#index) {
      if (e.pending || e.seq > started) continue; // being created, or changed by this process during the scan: keep
      if (!seen.has(name)) this.#del(name);
    }
    for (const [name, e] of found) {
      const cur = this.#index.get(name);
      if (cur && cur.seq > started) continue;
      this.#put(name, e);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const handles = [...this.#lastFiles.values()];
    this.#lastFiles.clear();
    await Promise.allSettled([...this.#lastWrites.values()]);
    await Promise.allSettled(handles.map(async (h) => (await h).close()));
    this.#index.clear();
    this.#byId.clear();
    this.#loaded = undefined;
  }
}
