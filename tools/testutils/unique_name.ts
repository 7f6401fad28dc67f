import { randomBytes } from "node:crypto";

/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const MAX_IFNAME_LENGTH = 15;

/**
 * A name no other test run is using: `<prefix><hex>`, cut to `maxLength` (default 15, the
 * interface-name limit) so the same helper serves links, namespaces and nft tables.
 */
export function uniqueName(prefix: string, options: { maxLength?: number } = {}): string {
  const maxLength = options.maxLength ?? MAX_IFNAME_LENGTH;
  const room = maxLength - prefix.length;
  if (room < 4) throw new RangeError(`uniqueName: prefix "${prefix}" leaves fewer than 4 characters for the random part`);
  return prefix + randomBytes(8).toString("hex").slice(0, Math.min(room, 10));
}
