/**
 * Which peers are trusted proxies, with the forms and meaning of Express's `trust proxy` setting, so that a proxy
 * setting means the same on every framework (docs/decisions.md D22): `true` (everyone), `false` (no one), a hop
 * count, a function `(address, hop) => boolean`, or addresses and subnets (`'loopback'`, `'linklocal'`,
 * `'uniquelocal'`, `'10.0.0.0/8'`, `'192.168.0.0/255.255.0.0'`, `'::1'`), as a list or one comma-separated string.
 *
 * Addresses are read as Express's `proxy-addr` reads them (with `ipaddr.js`): dotted quads whose parts may be octal
 * (`0177`) or hex (`0x7f`), a single 32-bit number, IPv6 with `::`, an embedded IPv4 tail and a zone; an IPv4-mapped
 * IPv6 address (`::ffff:10.0.0.1`) is judged as its IPv4 address. test/core/trust-proxy.test.ts compares every form
 * with Express's own `req.protocol`, `req.hostname` and `req.ip`.
 */

/** Express's `trust proxy` forms. */
export type TrustProxySetting = boolean | number | string | readonly string[] | TrustProxyFunction;
/** `hop` 0 is the peer that connected; 1 the address it forwarded for (`X-Forwarded-For`'s last entry); and so on. */
export type TrustProxyFunction = (address: string | undefined, hop: number) => boolean;

const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  loopback: ['127.0.0.1/8', '::1/128'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** A parsed address: 4 octets (IPv4) or 8 16-bit parts (IPv6). */
interface Ip {
  v4: boolean;
  parts: number[];
}

const V4_PART = '(0?\\d+|0x[a-f0-9]+)';
const V4_FOUR = new RegExp(`^${V4_PART}\\.${V4_PART}\\.${V4_PART}\\.${V4_PART}$`, 'i');
const V4_LONG = new RegExp(`^${V4_PART}$`, 'i');
const V6_PART = '(?:[0-9a-f]+::?)+';
const ZONE = '%[0-9a-z]{1,}';
const V6_NATIVE = new RegExp(`^(::)?(${V6_PART})?([0-9a-f]+)?(::)?(${ZONE})?$`, 'i');
const V6_TRANSITIONAL = new RegExp(`^((?:${V6_PART})|(?:::)(?:${V6_PART})?)${V4_PART}\\.${V4_PART}\\.${V4_PART}\\.${V4_PART}(${ZONE})?$`, 'i');

function intAuto(text: string): number {
  return text[0] === '0' && text[1] !== 'x' ? parseInt(text, 8) : parseInt(text);
}

function inRange(parts: number[], count: number, max: number): boolean {
  return parts.length === count && parts.every((p) => p >= 0 && p <= max);
}

function parseV4(text: string): Ip | undefined {
  let parts: number[];
  const four = V4_FOUR.exec(text);
  if (four) {
    parts = four.slice(1, 5).map(intAuto);
  } else {
    const long = V4_LONG.exec(text);
    if (!long) return undefined;
    const value = intAuto(long[1]!);
    if (!(value >= 0 && value <= 0xffffffff)) return undefined;
    parts = [(value >> 24) & 0xff, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
  }
  return inRange(parts, 4, 255) ? { v4: true, parts } : undefined;
}

/** Expands `::` (`ipaddr.js`'s rules); undefined when the text has two of them or too many parts. */
function expandV6(text: string, count: number): number[] | undefined {
  if (text.indexOf('::') !== text.lastIndexOf('::')) return undefined;
  let body = text.replace(/%.+$/, '');
  let colons = body.split(':').length - 1;
  if (body.startsWith('::')) colons--;
  if (body.endsWith('::')) colons--;
  if (colons > count) return undefined;
  body = body.replace('::', `:${'0:'.repeat(count - colons)}`);
  if (body.startsWith(':')) body = body.slice(1);
  if (body.endsWith(':')) body = body.slice(0, -1);
  return body.split(':').map((p) => parseInt(p, 16));
}

function parseV6(text: string): Ip | undefined {
  if (!text.includes(':')) return undefined;
  let parts: number[] | undefined;
  if (V6_NATIVE.test(text)) {
    parts = expandV6(text, 8);
  } else {
    const match = V6_TRANSITIONAL.exec(text);
    if (!match) return undefined;
    parts = expandV6(match[1]!.slice(0, -1) + (match[6] ?? ''), 6);
    if (!parts) return undefined;
    const octets = match.slice(2, 6).map((o) => parseInt(o));
    if (!octets.every((o) => o >= 0 && o <= 255)) return undefined;
    parts.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
  }
  return parts && inRange(parts, 8, 0xffff) ? { v4: false, parts } : undefined;
}

/** An address as `ipaddr.parse` reads it (IPv6 first), or undefined where `ipaddr.isValid` is false. */
export function parseIp(text: string): Ip | undefined {
  return parseV6(text) ?? parseV4(text);
}

function isV4Mapped(ip: Ip): boolean {
  return !ip.v4 && ip.parts.slice(0, 5).every((p) => p === 0) && ip.parts[5] === 0xffff;
}

function toV4(ip: Ip): Ip {
  const [high, low] = ip.parts.slice(-2) as [number, number];
  return { v4: true, parts: [high >> 8, high & 0xff, low >> 8, low & 0xff] };
}

function toV4Mapped(ip: Ip): Ip {
  return { v4: false, parts: [0, 0, 0, 0, 0, 0xffff, (ip.parts[0]! << 8) | ip.parts[1]!, (ip.parts[2]! << 8) | ip.parts[3]!] };
}

function matches(ip: Ip, subnet: Ip, bits: number): boolean {
  const size = ip.v4 ? 8 : 16;
  for (let part = 0, left = bits; left > 0; part++, left -= size) {
    const shift = Math.max(0, size - left);
    if (ip.parts[part]! >> shift !== subnet.parts[part]! >> shift) return false;
  }
  return true;
}

/** `10.0.0.0/8`, `10.0.0.0/255.0.0.0` or a bare address; throws (at start-up) on anything else, as Express does. */
function parseSubnet(note: string): [Ip, number] {
  const slash = note.lastIndexOf('/');
  const address = slash === -1 ? note : note.slice(0, slash);
  let ip = parseIp(address);
  if (!ip) throw new TypeError(`invalid IP address: ${address}`);
  if (slash === -1 && isV4Mapped(ip)) ip = toV4(ip);
  const max = ip.v4 ? 32 : 128;
  const text = slash === -1 ? undefined : note.slice(slash + 1);
  let bits: number | undefined;
  if (text === undefined) bits = max;
  else if (/^[0-9]+$/.test(text)) bits = parseInt(text, 10);
  else if (ip.v4 && parseIp(text)) bits = maskLength(parseIp(text)!);
  if (bits === undefined || bits <= 0 || bits > max) throw new TypeError(`invalid range on address: ${note}`);
  return [ip, bits];
}

/** The prefix length of an IPv4 netmask (`255.255.0.0` → 16); undefined for a non-contiguous or IPv6 one. */
function maskLength(mask: Ip): number | undefined {
  if (!mask.v4) return undefined;
  const zerosOf: Record<number, number> = { 0: 8, 128: 7, 192: 6, 224: 5, 240: 4, 248: 3, 252: 2, 254: 1, 255: 0 };
  let zeros = 0;
  let stop = false;
  for (let i = 3; i >= 0; i--) {
    const z = zerosOf[mask.parts[i]!];
    if (z === undefined || (stop && z !== 0)) return undefined;
    if (z !== 8) stop = true;
    zeros += z;
  }
  return 32 - zeros;
}

function trustSubnets(subnets: ReadonlyArray<[Ip, number]>): TrustProxyFunction {
  if (subnets.length === 0) return () => false;
  return (address) => {
    if (address === undefined) return false;
    let ip = parseIp(address);
    if (!ip) return false;
    // An IPv4-mapped candidate is judged as IPv4, so it cannot slip past an IPv4 rule through an IPv6 one.
    if (isV4Mapped(ip)) ip = toV4(ip);
    for (const [subnet, bits] of subnets) {
      let candidate = ip;
      if (ip.v4 !== subnet.v4) {
        if (subnet.v4) continue; // an IPv6 candidate (not mapped, see above) never matches an IPv4 subnet
        if (!(bits >= 96 && isV4Mapped(subnet))) continue;
        candidate = toV4Mapped(ip);
      } else if (!ip.v4 && isV4Mapped(subnet)) {
        continue;
      }
      if (matches(candidate, subnet, bits)) return true;
    }
    return false;
  };
}

/** Compiles a `trust proxy` setting to its function, exactly as Express does. Throws a TypeError on a bad address. */
export function compileTrustProxy(setting: TrustProxySetting | undefined): TrustProxyFunction {
  if (typeof setting === 'function') return setting;
  if (setting === true) return () => true;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  const list = typeof setting === 'string' ? setting.split(',').map((v) => v.trim()) : setting || [];
  const expanded = list.flatMap((entry) => (Object.hasOwn(NAMED_RANGES, entry) ? NAMED_RANGES[entry]! : [entry]));
  return trustSubnets(expanded.map(parseSubnet));
}

/** `X-Forwarded-For` entries, nearest first (split on commas and spaces, as `forwarded` does). */
function forwardedFor(header: string): string[] {
  const list: string[] = [];
  let end = header.length;
  let start = header.length;
  for (let i = header.length - 1; i >= 0; i--) {
    const c = header.charCodeAt(i);
    if (c === 0x20) {
      if (start === end) start = end = i;
    } else if (c === 0x2c) {
      if (start !== end) list.push(header.substring(start, end));
      start = end = i;
    } else {
      start = i;
    }
  }
  if (start !== end) list.push(header.substring(start, end));
  return list;
}

/**
 * The client's address: walks from the connected peer back through `X-Forwarded-For` while each hop is trusted
 * (Express's `req.ip`).
 */
export function clientAddress(remoteAddress: string | undefined, xForwardedFor: string | undefined, trust: TrustProxyFunction): string | undefined {
  const addresses: Array<string | undefined> = [remoteAddress, ...forwardedFor(xForwardedFor ?? '')];
  for (let i = 0; i < addresses.length - 1; i++) if (!trust(addresses[i], i)) return addresses[i];
  return addresses[addresses.length - 1];
}

/** What a peer's trust decides: the protocol and host the client used (Express's `req.protocol`, `req.host`). */
export interface ProxiedOrigin {
  /** True when the connected peer is a trusted proxy. */
  trusted: boolean;
  /** `X-Forwarded-Proto`'s first value from a trusted proxy, else the connection's (`https` over TLS). */
  protocol: string;
  /** `X-Forwarded-Host`'s first value from a trusted proxy, else `Host`. */
  host: string | undefined;
}

/** The protocol and host as Express computes them from the connection, the headers and the trust function. */
export function proxiedOrigin(input: { remoteAddress: string | undefined; encrypted: boolean; host: string | undefined; forwardedProto: string | undefined; forwardedHost: string | undefined }, trust: TrustProxyFunction): ProxiedOrigin {
  const connection = input.encrypted ? 'https' : 'http';
  if (!trust(input.remoteAddress, 0)) return { trusted: false, protocol: connection, host: input.host || undefined };
  const proto = input.forwardedProto || connection;
  const comma = proto.indexOf(',');
  const protocol = (comma === -1 ? proto : proto.substring(0, comma)).trim();
  let host = input.forwardedHost;
  if (!host) host = input.host;
  else if (host.includes(',')) host = host.substring(0, host.indexOf(',')).trimEnd();
  return { trusted: true, protocol, host: host || undefined };
}

/** The host name of a `Host` value without its port (Express's `req.hostname`; `[…]` IPv6 literals kept whole). */
export function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const offset = host[0] === '[' ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', offset);
  return colon === -1 ? host : host.substring(0, colon);
}
