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
      const [address, prefixText, extra] = entry.trim().split('/');
      const family = isIP(address);
      if (family === 0 || extra !== undefined) throw new Error(`"${entry}" is not an IP address or CIDR`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefixText === undefined) {
        this.list.addAddress(address, type);
        continue;
      }
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`"${entry}" has an invalid prefix length`);
      }
      this.list.addSubnet(address, prefix, type);
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

/** Validates a list of entries, returning a message per bad one (for config and CLI input). */
export function invalidCidrs(entries: readonly string[]): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    try {
      new IpAllowlist([entry]);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}
