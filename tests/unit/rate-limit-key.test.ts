import { addressKey } from '../../server/lib/rate-limit';

describe('the key of a client address in per-address limits', () => {
  it('when the address is IPv4, then it is the key as it is', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
  });

  it('when an IPv4 address comes mapped into IPv6, then its key is the IPv4 address', () => {
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(addressKey('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('when addresses share a /64, then they share a key, however they are written; another /64 has its own', () => {
    const key = addressKey('2001:db8::1');
    expect(key).toBe('2001:db8:0:0::/64');
    for (const ip of [
      '2001:db8::3c',
      '2001:0db8:0000:0000:ffff:ffff:ffff:ffff',
      '2001:DB8::abcd:1:2:3',
      '2001:db8:0:0:1::192.0.2.1',
      '2001:db8::1%eth0',
    ])
      expect(addressKey(ip)).toBe(key);
    expect(addressKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    // A NAT64 prefix is not an IPv4-mapped address.
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('when there is no address, then one key stands for all of them', () => {
    expect(addressKey(undefined)).toBe('unknown');
    expect(addressKey(null)).toBe('unknown');
    expect(addressKey('unknown')).toBe('unknown');
  });
});
