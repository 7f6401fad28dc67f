// Private helpers for this package's tests.
import type { IpamAttachment } from "./types.ts";

/** An attachment of container `id` on `ifname`. */
export const att = (id: string, ifname = "eth0"): IpamAttachment => ({ containerId: id, ifname });

/** The error `p` rejects with; throws when `p` resolves. */
export async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}
