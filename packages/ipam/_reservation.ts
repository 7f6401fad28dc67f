// Private: host-local's reservation-file content and owner matching, shared by the stores.
import type { IpamAttachment, IpamReservation } from "./types.ts";

/** host-local's line break inside a reservation file. */
export const LINE_BREAK = "\r\n";

/** File content for an attachment: `<trimmed id>\r\n<ifname>`, no trailing newline. */
export function formatOwner(attachment: IpamAttachment): string {
  return attachment.containerId.trim() + LINE_BREAK + attachment.ifname;
}

/** Parses file content; an old-format file (id only) has no ifname. Empty content has no owner yet. */
export function parseOwner(content: string): { containerId: string | undefined; ifname: string | undefined } {
  const text = content.trim();
  if (text === "") return { containerId: undefined, ifname: undefined };
  const at = text.indexOf(LINE_BREAK);
  if (at < 0) return { containerId: text, ifname: undefined };
  return { containerId: text.slice(0, at), ifname: text.slice(at + LINE_BREAK.length) };
}

/** Whether a reservation is held by `owner` (an old-format entry with only the container id matches too). */
export function heldBy(r: Pick<IpamReservation, "containerId" | "ifname">, owner: IpamAttachment): boolean {
  return r.containerId !== undefined && r.containerId === owner.containerId.trim() && (r.ifname === undefined || r.ifname === owner.ifname);
}
