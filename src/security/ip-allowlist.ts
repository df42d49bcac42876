import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * An IP/CIDR allowlist (IPv4 and IPv6) on node's BlockList. Entries are single addresses or
 * CIDRs. An empty list allows nobody: fail closed.
 */
export class IpAllowlist {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  /** Throws an Error naming the first entry that is not an address or CIDR. */
  constructor(entries: readonly string[]) {
    this.entries = entries;
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if ('rule' in parsed) throw new Error(parsed.message);
      if (parsed.prefix === null) this.list.addAddress(parsed.address, parsed.type);
      else this.list.addSubnet(parsed.address, parsed.prefix, parsed.type);
    }
  }

  /** True when `address` (as seen on the socket, IPv4-mapped IPv6 included) is in the list. */
  allows(address: string | undefined): boolean {
    const normalized = normalizeIp(address);
    if (!normalized) return false;
    const family = isIP(normalized);
    return this.list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; undefined or unparsable → undefined (the caller is refused). */
export function normalizeIp(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  return isIP(ip) === 0 ? undefined : ip;
}

/** A bad allowlist entry: which rule it breaks (`not-cidr`, `cidr-prefix`) and the message naming it. */
export interface CidrProblem {
  entry: string;
  rule: 'not-cidr' | 'cidr-prefix';
  message: string;
}

function parseEntry(entry: string): { address: string; prefix: number | null; type: 'ipv4' | 'ipv6' } | CidrProblem {
  const [address, prefixText, extra] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return { entry, rule: 'not-cidr', message: `"${entry}" is not an IP address or CIDR` };
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, prefix: null, type };
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return { entry, rule: 'cidr-prefix', message: `"${entry}" has an invalid prefix length` };
  return { address, prefix, type };
}

/** Each bad entry of a list with the rule it breaks (the console words it in the clerk's language). */
export function cidrProblems(entries: readonly string[]): CidrProblem[] {
  return entries.map(parseEntry).filter((parsed): parsed is CidrProblem => 'rule' in parsed);
}

/** Validates a list of entries, returning a message per bad one (for config and CLI input). */
export function invalidCidrs(entries: readonly string[]): string[] {
  return cidrProblems(entries).map((problem) => problem.message);
}

/**
 * The request comes straight from an address of `list`: its socket address is in it and no proxy
 * forwarded it (no X-Forwarded-For, no Forwarded). So a caller through nginx, whose socket is
 * nginx's own loopback address, is never taken for a local operator's probe or scraper.
 */
export function directFrom(list: IpAllowlist, req: IncomingMessage): boolean {
  const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  return !proxied && list.allows(req.socket.remoteAddress);
}
