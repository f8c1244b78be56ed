/**
 * The core's `trust proxy` (src/core/http/trust-proxy.ts) against Express's own: for every setting form and many peers and
 * forwarded headers, the core's trust decision, protocol, host name and client address equal Express's
 * `req.protocol`, `req.hostname` and `req.ip` (read from real Express request objects, and over real sockets).
 */
import { describe, expect, it } from 'vitest';
import express from 'express';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { clientAddress, compileTrustProxy, hostnameOf, parseIp, proxiedOrigin, type TrustProxySetting } from '../../../src/core/http/trust-proxy.js';

const SETTINGS: TrustProxySetting[] = [
  true,
  false,
  0,
  1,
  2,
  3,
  'loopback',
  'linklocal',
  'uniquelocal',
  'loopback, uniquelocal',
  'loopback,linklocal,uniquelocal',
  ['loopback', '10.0.0.0/8'],
  ['10.0.0.0/8', '::1'],
  '10.0.0.1',
  '10.0.0.0/255.0.0.0',
  '192.168.1.0/255.255.255.0',
  '172.16.0.0/12',
  '::ffff:10.0.0.0/104',
  '::ffff:10.0.0.7',
  '::ffff:0.0.0.0/95',
  'fe80::/10',
  '2001:db8::/32',
  '2001:db8::1/128',
  '0177.0.0.1',
  '0x0a000001',
  '167772161',
  ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/64', 'fc00::/7'],
  '0.0.0.0/1',
  '::/1',
  (address: string | undefined, hop: number) => address === '10.0.0.7' || hop < 1,
];

const PEERS = [
  '127.0.0.1',
  '::1',
  '::ffff:127.0.0.1',
  '10.0.0.1',
  '10.0.0.7',
  '::ffff:10.0.0.7',
  '::ffff:0.0.0.0/95',
  '::ffff:a00:7',
  '192.168.1.5',
  '172.16.0.1',
  '172.32.0.1',
  '169.254.1.1',
  'fe80::1',
  'fe80::1%eth0',
  '2001:db8::1',
  '2001:db8:0:0:0:0:0:2',
  'fc00::5',
  '8.8.8.8',
  'garbage',
  '',
  undefined,
];

const FORWARDED_FOR = [
  undefined,
  '',
  '1.2.3.4',
  '1.2.3.4, 10.0.0.2',
  '10.0.0.2,10.0.0.3 , 8.8.8.8',
  'junk, 10.0.0.1',
  '0x0a000001',
  '012.0.0.1',
  '::ffff:0a00:0001',
  ', ,',
  '1.2.3.4,,5.6.7.8',
  '2001:db8::9, ::1',
  '1.2.3.4 10.0.0.1',
  '1.2.3.4,\t10.0.0.1',
];
const FORWARDED_PROTO = [undefined, '', 'https', 'HTTPS', 'http, https', ' https ', 'ftp', 'https,'];
const FORWARDED_HOST = [undefined, '', 'a.example', 'a.example, b.example', ',b.example', '[::1]:8080', 'a.example:8443', 'a.example ,b'];
const HOSTS = [undefined, 'api.example:3000', '[::1]:3000', 'api.example'];

/** A real Express request object of `app` (its getters, its settings), with the given socket and headers. */
function expressRequest(app: express.Express, socket: { remoteAddress: string | undefined; encrypted: boolean }, headers: Record<string, string>): express.Request {
  const req = Object.create(app.request) as express.Request;
  Object.defineProperty(req, 'socket', { value: socket });
  Object.defineProperty(req, 'headers', { value: headers });
  Object.defineProperty(req, 'app', { value: app });
  return req;
}

function headersOf(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}

/** One Express app and one compiled core function per setting (building an app per case would dominate the run). */
const compiled = new Map<TrustProxySetting, { app: express.Express; trust: ReturnType<typeof compileTrustProxy> }>();

function compare(setting: TrustProxySetting, peer: string | undefined, encrypted: boolean, values: Record<string, string | undefined>): void {
  let entry = compiled.get(setting);
  if (!entry) {
    const app = express();
    app.set('trust proxy', setting);
    compiled.set(setting, (entry = { app, trust: compileTrustProxy(setting) }));
  }
  const { app, trust } = entry;
  const headers = headersOf(values);
  const req = expressRequest(app, { remoteAddress: peer, encrypted }, headers);
  const origin = proxiedOrigin({ remoteAddress: peer, encrypted, host: headers.host, forwardedProto: headers['x-forwarded-proto'], forwardedHost: headers['x-forwarded-host'] }, trust);
  const core = [origin.trusted, origin.protocol, hostnameOf(origin.host), clientAddress(peer, headers['x-forwarded-for'], trust)];
  const seen = [(app.get('trust proxy fn') as (a: string | undefined, i: number) => boolean)(peer, 0), req.protocol, req.hostname, req.ip];
  // Compared by hand first: tens of thousands of cases, and expect() builds its message eagerly.
  if (core.some((value, i) => value !== seen[i])) {
    expect(core, JSON.stringify({ setting: typeof setting === 'function' ? 'function' : setting, peer, encrypted, headers })).toEqual(seen);
  }
}

describe('trust proxy: the core decides exactly as Express', () => {
  it('every setting form × every peer × forwarded headers (table)', () => {
    let cases = 0;
    for (const setting of SETTINGS) {
      for (const peer of PEERS) {
        for (const xff of FORWARDED_FOR) {
          for (const [i, xfp] of FORWARDED_PROTO.entries()) {
            const xfh = FORWARDED_HOST[(i + FORWARDED_FOR.indexOf(xff)) % FORWARDED_HOST.length];
            const host = HOSTS[i % HOSTS.length];
            compare(setting, peer, i % 3 === 0, { host, 'x-forwarded-for': xff, 'x-forwarded-proto': xfp, 'x-forwarded-host': xfh });
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(SETTINGS.length * PEERS.length * FORWARDED_FOR.length * FORWARDED_PROTO.length);
  });

  it('random addresses, subnets and X-Forwarded-For chains (property)', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((p) => p.map((x) => x.toString(16)).join(':'));
    const mapped = ipv4.map((a) => `::ffff:${a}`);
    const address = fc.oneof(ipv4, ipv6, mapped, fc.constantFrom('127.0.0.1', '::1', '10.0.0.1', 'fe80::1', 'x', '1.2.3'));
    const subnet = fc.oneof(
      fc.tuple(ipv4, fc.integer({ min: 1, max: 32 })).map(([a, n]) => `${a}/${n}`),
      fc.tuple(ipv6, fc.integer({ min: 1, max: 128 })).map(([a, n]) => `${a}/${n}`),
      fc.tuple(mapped, fc.integer({ min: 96, max: 128 })).map(([a, n]) => `${a}/${n}`),
      ipv4,
      fc.constantFrom('loopback', 'linklocal', 'uniquelocal'),
    );
    const setting = fc.oneof(
      fc.boolean(),
      fc.integer({ min: 0, max: 4 }),
      fc.array(subnet, { minLength: 1, maxLength: 4 }),
      fc.array(subnet, { minLength: 1, maxLength: 3 }).map((l) => l.join(', ')),
    );
    fc.assert(
      fc.property(setting, address, fc.array(address, { maxLength: 4 }), fc.boolean(), (s, peer, chain, encrypted) => {
        compare(s, peer, encrypted, { host: 'api.example', 'x-forwarded-for': chain.length ? chain.join(', ') : undefined, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'b.example' });
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses the settings Express refuses, at compile time', () => {
    for (const bad of ['not-an-ip', '::/0', '10.0.0.0/33', '10.0.0.0/0', '10.0.0.0/255.0.255.0', '::1/129', '10.0.0.0/x', ['10.0.0.1', 'nope']]) {
      expect(() => express().set('trust proxy', bad), String(bad)).toThrow(TypeError);
      expect(() => compileTrustProxy(bad), String(bad)).toThrow(TypeError);
    }
  });

  it('reads addresses as Express does (octal, hex, 32-bit, embedded IPv4, zones)', () => {
    expect(parseIp('0177.0.0.1')?.parts).toEqual([127, 0, 0, 1]);
    expect(parseIp('0x7f.0.0.1')?.parts).toEqual([127, 0, 0, 1]);
    expect(parseIp('2130706433')?.parts).toEqual([127, 0, 0, 1]);
    expect(parseIp('::ffff:1.2.3.4')?.parts).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIp('fe80::1%eth0')?.parts).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIp('1.2.3.256')).toBeUndefined();
    expect(parseIp('1::2::3')).toBeUndefined();
  });

  it('over real sockets: the peer Express sees is judged the same', async () => {
    for (const setting of [true, false, 'loopback', '10.0.0.0/8', 1, '::1']) {
      const app = express();
      app.set('trust proxy', setting);
      app.get('/', (req, res) => {
        const trust = compileTrustProxy(setting);
        const origin = proxiedOrigin(
          { remoteAddress: req.socket.remoteAddress, encrypted: false, host: req.headers.host, forwardedProto: req.headers['x-forwarded-proto'] as string | undefined, forwardedHost: req.headers['x-forwarded-host'] as string | undefined },
          trust,
        );
        res.json({ express: [req.protocol, req.hostname, req.ip], core: [origin.protocol, hostnameOf(origin.host), clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'] as string | undefined, trust)] });
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.3', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' } });
        const { express: seen, core } = (await reply.json()) as { express: unknown[]; core: unknown[] };
        expect(core, String(setting)).toEqual(seen);
      } finally {
        server.close();
      }
    }
  });
});
