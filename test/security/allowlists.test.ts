import { expect } from 'chai';
import { invalidCidrs, invalidOrigins, IpAllowlist, normalizeIp, OriginAllowlist, hashSecret, verifySecret } from '../../src/security/index.js';

describe('IpAllowlist', () => {
  it('matches IPv4 CIDRs and single addresses', () => {
    const list = new IpAllowlist(['10.1.0.0/16', '192.0.2.7']);
    expect(list.allows('10.1.200.3')).to.equal(true);
    expect(list.allows('10.2.0.1')).to.equal(false);
    expect(list.allows('192.0.2.7')).to.equal(true);
    expect(list.allows('192.0.2.8')).to.equal(false);
  });

  it('matches IPv4-mapped IPv6 socket addresses as IPv4', () => {
    expect(new IpAllowlist(['127.0.0.1/32']).allows('::ffff:127.0.0.1')).to.equal(true);
  });

  it('matches IPv6 CIDRs', () => {
    const list = new IpAllowlist(['2001:db8::/32', '::1']);
    expect(list.allows('2001:db8:1::5')).to.equal(true);
    expect(list.allows('2001:db9::1')).to.equal(false);
    expect(list.allows('::1')).to.equal(true);
  });

  it('allows nobody when empty, and refuses an unreadable address', () => {
    expect(new IpAllowlist([]).allows('127.0.0.1')).to.equal(false);
    expect(new IpAllowlist(['0.0.0.0/0']).allows(undefined)).to.equal(false);
  });

  it('names a bad entry', () => {
    expect(() => new IpAllowlist(['10.0.0.0/33'])).to.throw('"10.0.0.0/33" has an invalid prefix length');
    expect(() => new IpAllowlist(['2001:db8::/129'])).to.throw('"2001:db8::/129" has an invalid prefix length');
    expect(() => new IpAllowlist(['erp.example.com'])).to.throw('"erp.example.com" is not an IP address or CIDR');
    expect(() => new IpAllowlist(['10.0.0.0/8/16'])).to.throw('"10.0.0.0/8/16" is not an IP address or CIDR');
  });

  // A prefix Number() would read (an empty one is 0: allow everyone) is still refused unless it is 1 to 3 digits.
  for (const prefix of ['', '+8', '-0', '8.0', '1e1', '0x8', 'x8', '8x', '0008']) {
    it(`refuses the prefix "/${prefix}" instead of reading a number into it`, () => {
      expect(() => new IpAllowlist([`10.0.0.0/${prefix}`])).to.throw(`"10.0.0.0/${prefix}" has an invalid prefix length`);
    });
  }

  it('takes entries with the spaces a comma-separated setting leaves around them', () => {
    const list = new IpAllowlist([' 10.1.0.0/16', '192.0.2.7 ', ' 2001:db8::/32 ']);
    expect(list.allows('10.1.2.3')).to.equal(true);
    expect(list.allows('192.0.2.7')).to.equal(true);
    expect(list.allows('2001:db8::1')).to.equal(true);
    expect(list.allows('10.2.0.0')).to.equal(false);
  });

  it('does not take an IPv6 address that merely ends in ::ffff:a.b.c.d for that IPv4 address', () => {
    const list = new IpAllowlist(['10.0.0.1']);
    expect(list.allows('::ffff:10.0.0.1')).to.equal(true);
    expect(list.allows('1::ffff:10.0.0.1')).to.equal(false);
    expect(list.allows('64:ff9b::10.0.0.1')).to.equal(false);
  });

  it('refuses an empty or unparsable caller address', () => {
    const everyone = new IpAllowlist(['0.0.0.0/0', '::/0']);
    for (const address of ['', 'localhost', '10.0.0', '::ffff:10.0.0.256', '10.0.0.1 ']) expect(everyone.allows(address), JSON.stringify(address)).to.equal(false);
  });
});

describe('normalizeIp', () => {
  it('reads an IPv4-mapped IPv6 socket address as the IPv4 address, whatever the case of ffff', () => {
    expect(normalizeIp('::ffff:10.0.0.1')).to.equal('10.0.0.1');
    expect(normalizeIp('::FFFF:192.168.123.45')).to.equal('192.168.123.45');
    expect(normalizeIp('::ffff:1.22.133.4')).to.equal('1.22.133.4');
  });

  it('keeps any other address as it is', () => {
    expect(normalizeIp('10.0.0.1')).to.equal('10.0.0.1');
    expect(normalizeIp('2001:db8::1')).to.equal('2001:db8::1');
    expect(normalizeIp('::1')).to.equal('::1');
    // Only the exact ::ffff:a.b.c.d form is a mapped IPv4 address; these are IPv6 addresses.
    expect(normalizeIp('1::ffff:10.0.0.1')).to.equal('1::ffff:10.0.0.1');
    expect(normalizeIp('::ffff:10.0.0.1%eth0')).to.equal('::ffff:10.0.0.1%eth0');
    expect(normalizeIp('::ffff:a00:1')).to.equal('::ffff:a00:1');
  });

  it('gives nothing for what is not an address', () => {
    for (const address of [undefined, '', 'localhost', '::ffff:10.0.0', '::ffff:10.0.0.256', '::ffff:', '10.0.0.1/32']) {
      expect(normalizeIp(address), JSON.stringify(address)).to.equal(undefined);
    }
  });
});

describe('invalidCidrs', () => {
  it('names each bad entry of a list, and nothing when all are good', () => {
    expect(invalidCidrs(['10.0.0.0/8', 'erp.example.com', '::1', '10.0.0.0/33'])).to.deep.equal([
      '"erp.example.com" is not an IP address or CIDR',
      '"10.0.0.0/33" has an invalid prefix length',
    ]);
    expect(invalidCidrs(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'])).to.deep.equal([]);
  });
});

describe('OriginAllowlist', () => {
  const list = new OriginAllowlist(['erp.example.com', '*.dynamics.com', 'http://localhost:3000']);

  it('allows exact hosts over https only when no scheme is given', () => {
    expect(list.allows('https://erp.example.com')).to.equal(true);
    expect(list.allows('http://erp.example.com')).to.equal(false);
    expect(list.allows('https://erp.example.com:8443')).to.equal(false);
  });

  it('allows subdomains of a wildcard but not the apex or a look-alike', () => {
    expect(list.allows('https://contoso.crm5.dynamics.com')).to.equal(true);
    expect(list.allows('https://dynamics.com')).to.equal(false);
    expect(list.allows('https://evildynamics.com')).to.equal(false);
    expect(list.allows('https://dynamics.com.evil.io')).to.equal(false);
  });

  it('honours an explicit scheme and port', () => {
    expect(list.allows('http://localhost:3000')).to.equal(true);
    expect(list.allows('http://localhost:3001')).to.equal(false);
  });

  it('refuses null, paths and garbage', () => {
    expect(list.allows('null')).to.equal(false);
    expect(list.allows('https://erp.example.com/path')).to.equal(false);
    expect(list.allows(undefined)).to.equal(false);
  });

  it('allows nobody when empty', () => {
    expect(new OriginAllowlist([]).allows('https://erp.example.com')).to.equal(false);
  });

  it('reads an entry trimmed and in any case', () => {
    const typed = new OriginAllowlist(['  ERP.Example.com\t', ' http://LocalHost:3000 ']);
    expect(typed.allows('https://erp.example.com')).to.equal(true);
    expect(typed.allows('http://localhost:3000')).to.equal(true);
  });

  it("takes a scheme's default port written out as no port, and that port only for that scheme", () => {
    const list = new OriginAllowlist(['https://erp.example.com:443', 'http://intranet.example.com:80', 'http://legacy.example.com:443', 'https://odd.example.com:80']);
    // Browsers never write a default port in an Origin header.
    expect(list.allows('https://erp.example.com')).to.equal(true);
    expect(list.allows('http://intranet.example.com')).to.equal(true);
    // 443 is not http's default, nor 80 https's: the port must be sent, and is.
    expect(list.allows('http://legacy.example.com:443')).to.equal(true);
    expect(list.allows('http://legacy.example.com')).to.equal(false);
    expect(list.allows('https://odd.example.com:80')).to.equal(true);
    expect(list.allows('https://odd.example.com')).to.equal(false);
  });

  it('refuses an entry that is not a whole host, wildcard or origin, naming it', () => {
    const bad = ['ftp://erp.example.com', 'https://erp.example.com/app', 'erp.example.com:3000x', '*erp.example.com', 'https://user@erp.example.com', 'erp.example.com?x', ''];
    expect(invalidOrigins(['erp.example.com', ...bad, '*.dynamics.com', 'http://localhost:3000/'])).to.deep.equal(
      bad.map((entry) => `"${entry}" is not a host, *.domain wildcard or origin`),
    );
    expect(() => new OriginAllowlist(['erp.example.com', 'ftp://erp.example.com'])).to.throw('"ftp://erp.example.com" is not a host, *.domain wildcard or origin');
    expect(invalidOrigins([])).to.deep.equal([]);
  });
});

describe('scrypt secret hashes', () => {
  it('verify the right secret and refuse a wrong one or a malformed hash', async () => {
    const hash = await hashSecret('s3cret-value');
    expect(hash).to.match(/^scrypt\$32768\$8\$1\$/);
    expect(hash).to.not.contain('s3cret-value');
    expect(await verifySecret('s3cret-value', hash)).to.equal(true);
    expect(await verifySecret('s3cret-valuE', hash)).to.equal(false);
    expect(await verifySecret('s3cret-value', 'scrypt$1$2')).to.equal(false);
  });
});

/**
 * Prefix boundaries, computed independently of node's BlockList: for every prefix length, the
 * first and last address of the block are in, the addresses just outside either end are out.
 */
describe('IpAllowlist prefix boundaries', () => {
  function toV4(n: bigint): string {
    return [24n, 16n, 8n, 0n].map((shift) => ((n >> shift) & 255n).toString()).join('.');
  }
  function toV6(n: bigint): string {
    const groups: string[] = [];
    for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((n >> shift) & 0xffffn).toString(16));
    return groups.join(':');
  }

  function boundaries(bits: bigint, prefix: number, base: bigint): { first: bigint; last: bigint; below: bigint | null; above: bigint | null } {
    const hostBits = bits - BigInt(prefix);
    const size = 1n << hostBits;
    const first = (base >> hostBits) << hostBits;
    const last = first + size - 1n;
    const max = (1n << bits) - 1n;
    return { first, last, below: first === 0n ? null : first - 1n, above: last === max ? null : last + 1n };
  }

  it('IPv4: every prefix from /0 to /32 takes exactly its block', () => {
    const base = 0xc0a87b2dn; // 192.168.123.45: bits set on both sides of every boundary
    for (let prefix = 0; prefix <= 32; prefix += 1) {
      const { first, last, below, above } = boundaries(32n, prefix, base);
      const list = new IpAllowlist([`${toV4(first)}/${prefix}`]);
      expect(list.allows(toV4(first)), `/${prefix} first`).to.equal(true);
      expect(list.allows(toV4(last)), `/${prefix} last`).to.equal(true);
      if (below !== null) expect(list.allows(toV4(below)), `/${prefix} just below ${toV4(below)}`).to.equal(false);
      if (above !== null) expect(list.allows(toV4(above)), `/${prefix} just above ${toV4(above)}`).to.equal(false);
      // The same check on the address form a dual-stack socket reports.
      expect(list.allows(`::ffff:${toV4(last)}`), `/${prefix} mapped last`).to.equal(true);
      if (above !== null) expect(list.allows(`::ffff:${toV4(above)}`), `/${prefix} mapped above`).to.equal(false);
    }
  });

  it('IPv6: every prefix from /0 to /128 takes exactly its block', () => {
    const base = 0x2001_0db8_85a3_7b2d_0000_8a2e_0370_7334n;
    for (let prefix = 0; prefix <= 128; prefix += 1) {
      const { first, last, below, above } = boundaries(128n, prefix, base);
      const list = new IpAllowlist([`${toV6(first)}/${prefix}`]);
      expect(list.allows(toV6(first)), `/${prefix} first`).to.equal(true);
      expect(list.allows(toV6(last)), `/${prefix} last`).to.equal(true);
      if (below !== null) expect(list.allows(toV6(below)), `/${prefix} just below`).to.equal(false);
      if (above !== null) expect(list.allows(toV6(above)), `/${prefix} just above`).to.equal(false);
    }
  });

  it('a network written with host bits set still covers its whole block (10.1.2.3/16 is 10.1.0.0/16)', () => {
    const list = new IpAllowlist(['10.1.2.3/16']);
    expect(list.allows('10.1.0.0')).to.equal(true);
    expect(list.allows('10.1.255.255')).to.equal(true);
    expect(list.allows('10.0.255.255')).to.equal(false);
    expect(list.allows('10.2.0.0')).to.equal(false);
  });
});
