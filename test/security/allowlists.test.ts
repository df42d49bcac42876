import { expect } from 'chai';
import { IpAllowlist, OriginAllowlist, hashSecret, verifySecret } from '../../src/security/index.js';

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
    expect(() => new IpAllowlist(['10.0.0.0/33'])).to.throw('"10.0.0.0/33"');
    expect(() => new IpAllowlist(['erp.example.com'])).to.throw('"erp.example.com"');
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
