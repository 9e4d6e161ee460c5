// Maps a client address to the key its failed logins are counted under. Imports nothing of ours;
// must not import src/http, src/dav, src/cli or protocol plugins.
import { isIPv4, isIPv6 } from 'node:net';

/**
 * IPv4 addresses count individually; IPv6 addresses count per /64, because one end site normally
 * holds a whole /64 and could otherwise rotate through 2^64 addresses to dodge the per-address
 * limit. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what a dual-stack socket reports) counts as the IPv4.
 */
export function addressThrottleKey(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(bare)) return bare;
  // The zone (`%eth0`) names a local interface, not a different host.
  const unzoned = bare.replace(/%.*$/, '');
  if (isIPv6(unzoned)) {
    const groups = ipv6Groups(unzoned);
    if (groups !== null) {
      const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
      const [, , , , , , high = 0, low = 0] = groups;
      if (mapped) return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
      return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
    }
  }
  // Unix sockets, test doubles and whatever a proxy passes through still get a key of their own.
  return `other:${address}`;
}

/** The eight 16-bit groups of an address that isIPv6 has already accepted. */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}
