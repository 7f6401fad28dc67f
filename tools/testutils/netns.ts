import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { uniqueName } from "./unique_name.ts";

const execFileAsync = promisify(execFile);

/** Runs argv (no shell) and returns stdout; rejects with stderr in the message. */
export async function sh(argv: readonly string[], options: { input?: string } = {}): Promise<string> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new TypeError("sh: empty argv");
  try {
    if (options.input !== undefined) {
      return await new Promise<string>((resolve, reject) => {
        const child = execFile(cmd, args, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)));
        child.stdin?.end(options.input);
      });
    }
    const { stdout } = await execFileAsync(cmd, args);
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`${argv.join(" ")} failed: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
}

/** Creates a network namespace with a unique name (`wt-<prefix>-…`) and brings its loopback up. */
export async function createNetns(prefix: string): Promise<string> {
  const name = uniqueName(`wt-${prefix}-`, { maxLength: 32 });
  await sh(["ip", "netns", "add", name]);
  await sh(["ip", "-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** Deletes a namespace; a namespace that is already gone is not an error. */
export async function deleteNetns(name: string): Promise<void> {
  await sh(["ip", "netns", "delete", name]).catch((err: Error) => {
    if (!/No such file|Invalid netns|not found/i.test(err.message)) throw err;
  });
}

/**
 * Runs `fn` with a fresh namespace and always deletes it afterwards, also when `fn` throws.
 * Deleting the namespace removes every link, route and nft table inside it.
 */
export async function withNetns<T>(prefix: string, fn: (netns: string) => Promise<T>): Promise<T> {
  const name = await createNetns(prefix);
  try {
    return await fn(name);
  } finally {
    await deleteNetns(name);
  }
}
