// Words nft 1.0.x cannot parse where a table, chain, set or map name goes (its scanner turns them
// into keywords, and nft before 1.0.7 has no quoted names). Found by trying every word in
// libnftables' strings as a chain name with `nft -c` (nft 1.0.6); names made of a keyword plus more
// characters (`nat-out`, `tcp-80`) are fine.
const WORDS = [
  "accept add ah all and arp auto-merge bridge cgroup chain comment comp constant continue counter cpu",
  "create ct day dccp define delete describe device devices dnat drop dst dup dynamic ecn element",
  "elements esp ether exists expires export exthdr fib flags flow flowtable flush frag fwd gc-interval",
  "get goto handle hbh hook hour ibriport ibrname icmp icmpv6 igmp iif iifgroup iifname iiftype import",
  "include index inet insert interval ip ip6 ipsec jhash jump limit list log lt map mark masquerade",
  "meta meter mh missing monitor netdev nftrace not notrack numgen obriport obrname offload oif",
  "oifgroup oifname oiftype or osf pkttype policy position priority queue quota random redefine",
  "redirect reject rename replace reset return rt rt0 rt2 rtclassid rule ruleset sctp secmark set size",
  "skgid skuid snat socket srh symhash synproxy table tcp th time timeout tproxy type typeof udp",
  "udplite undefine update vlan vmap xt",
].join(" ");

/** Names nft reads as keywords. */
export const NFT_KEYWORDS: ReadonlySet<string> = new Set(WORDS.split(" "));
