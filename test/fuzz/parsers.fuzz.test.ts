/**
 * Property-based tests (fast-check) over everything that parses attacker input: the Authorization and DPoP header
 * parsers, the token splitter/decoder, the challenge builder and the htu normalizer; then the whole validator on
 * mutated tokens, and raw HTTP requests with arbitrary header bytes against the demo.
 *
 * The properties: nothing but an AuthError ever escapes (anything else would become a 500), results keep their
 * invariants, every challenge is valid RFC 9110 syntax, normalization is idempotent, no input hangs or crashes.
 * Runs are bounded (numRuns) so that the file stays fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect } from 'node:net';
import { validateHeaderValue } from 'node:http';
import { parseAuthorization, getDpopProof } from '../../src/core/http/credentials.js';
import { decodeAccessToken } from '../../src/core/token/access-token.js';
import { buildChallenge, type ChallengeInput } from '../../src/core/http/challenge.js';
import { normalizeHtu } from '../../src/core/http/htu.js';
import { AuthError, sanitizeDescription, type AuthErrorCode } from '../../src/core/errors.js';
import { ApiValidator } from '../../src/core/validator.js';
import { TestIssuer } from '../support/test-issuer.js';
import { AUDIENCE, parseChallenges, startTestDemo } from '../support/demo.js';
import type { RunningDemo } from '../../src/demo/server.js';

const RUNS = { numRuns: 300 };
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

let issuer: TestIssuer;
let demo: RunningDemo;
let validToken: string;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  demo = await startTestDemo({ AUTH0_DOMAIN: issuer.origin });
  validToken = await issuer.token(AUDIENCE);
});
afterAll(async () => {
  await demo?.close();
  await issuer?.close();
});

/** Runs `fn`; returns its result, or the AuthError it threw. Any other exception fails the property. */
function settle<T>(fn: () => T): T | AuthError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof AuthError)) throw new Error(`non-AuthError escaped: ${String(error)}`, { cause: error });
    return error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

/** Any string: full unicode, lone surrogates, controls, CR/LF, quotes. */
const anyString = fc.string({ unit: 'binary', maxLength: 300 });
/** Strings built from the pieces that matter to the parsers. */
const headerish = fc.array(fc.constantFrom('Bearer', 'DPoP', 'bearer', 'Basic', ' ', '  ', '\t', ',', '"', '=', '.', 'eyJ', 'a', '-', '_', '+', '/', '~', '\r\n', '\u0000', 'é'), { maxLength: 40 }).map((parts) => parts.join(''));
/** A known scheme, spaces, then anything: the parser must still only ever hand out token68 tokens. */
const schemeThenAnything = fc.tuple(fc.constantFrom('Bearer', 'DPoP', 'bearer', 'dpop'), fc.constantFrom(' ', '  ', '\t'), fc.oneof(anyString, headerish)).map((parts) => parts.join(''));
const headerValue = fc.oneof(
  anyString,
  headerish,
  schemeThenAnything,
  fc.stringMatching(TOKEN68).map((t) => `Bearer ${t}`),
);
const headerField = fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 }), fc.constant(undefined));

const b64u = (text: string) => Buffer.from(text).toString('base64url');

// ===============================================================================================================

describe('parseAuthorization', () => {
  it('never throws anything but a 400 invalid_request, and a parsed token is always token68', () => {
    fc.assert(
      fc.property(headerField, fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION'), (value, name) => {
        const result = settle(() => parseAuthorization({ [name]: value }));
        if (result instanceof AuthError) {
          expect(result.status).toBe(400);
          expect(result.code).toBe('invalid_request');
          return;
        }
        expect(['none', 'unsupported', 'token']).toContain(result.kind);
        if (result.kind === 'token') {
          expect(['bearer', 'dpop']).toContain(result.scheme);
          expect(result.token).toMatch(TOKEN68);
        }
      }),
      RUNS,
    );
  });

  it('round-trips "<scheme> 1*SP <token68>" for any scheme case and token68', () => {
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'DPoP', 'dpop', 'DPOP');
    fc.assert(
      fc.property(scheme, fc.integer({ min: 1, max: 4 }), fc.stringMatching(TOKEN68), (name, spaces, token) => {
        const result = parseAuthorization({ authorization: `${name}${' '.repeat(spaces)}${token}` });
        expect(result).toEqual({ kind: 'token', scheme: name.toLowerCase(), token });
      }),
      RUNS,
    );
  });

  it('two Authorization values are always 400 invalid_request', () => {
    fc.assert(
      fc.property(fc.stringMatching(TOKEN68), fc.stringMatching(TOKEN68), (x, y) => {
        const result = settle(() => parseAuthorization({ authorization: [`Bearer ${x}`, `Bearer ${y}`] }));
        expect(result).toBeInstanceOf(AuthError);
        expect((result as AuthError).code).toBe('invalid_request');
      }),
      { numRuns: 50 },
    );
  });
});

describe('getDpopProof', () => {
  it('returns one trimmed, non-empty, comma-free proof or throws 400 invalid_request on the DPoP scheme', () => {
    fc.assert(
      fc.property(headerField, (value) => {
        const result = settle(() => getDpopProof({ dpop: value }));
        if (result instanceof AuthError) {
          expect(result.code).toBe('invalid_request');
          expect(result.scheme).toBe('dpop');
          return;
        }
        expect(result).not.toBe('');
        expect(result).toBe(result.trim());
        expect(result).not.toContain(',');
      }),
      RUNS,
    );
  });
});

describe('decodeAccessToken', () => {
  const ALLOWED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

  function expectDecodedInvariants(result: ReturnType<typeof decodeAccessToken>): void {
    expect(result.alg).toBe('RS256');
    expect(typeof result.kid).toBe('string');
    expect(result.kid.length).toBeGreaterThan(0);
    expect(result.kid.length).toBeLessThanOrEqual(256);
    for (const name of ['crit', 'b64', 'enc', 'zip']) expect(result.header[name]).toBeUndefined();
    const typ = result.header.typ;
    if (typ !== undefined) expect(typeof typ === 'string' && ALLOWED_TYP.has(typ.toLowerCase())).toBe(true);
    expect(result.payload !== null && typeof result.payload === 'object' && !Array.isArray(result.payload)).toBe(true);
  }

  function check(token: string, strict = false): void {
    const result = settle(() => decodeAccessToken(token, ['RS256'], strict));
    if (result instanceof AuthError) {
      expect(result.status).toBe(401);
      expect(result.code).toBe('invalid_token');
      return;
    }
    expectDecodedInvariants(result);
  }

  it('arbitrary strings: only 401 invalid_token escapes', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, headerish), (s) => check(s)),
      RUNS,
    );
  });

  it('dot bombs and segment soups stay fast and are 401', () => {
    const soup = fc.array(fc.constantFrom('.', 'a', 'eyJ', '-', '_', '='), { minLength: 1, maxLength: 5000 }).map((p) => p.join(''));
    fc.assert(
      fc.property(soup, (s) => {
        const started = performance.now();
        check(s);
        expect(performance.now() - started).toBeLessThan(100);
      }),
      { numRuns: 100 },
    );
  });

  it('structured JWTs with arbitrary header members and payloads keep the invariants', () => {
    // Each member is mostly the valid value (or absent), sometimes a hostile one, sometimes any JSON: so that
    // tokens passing every check but one are common, and the one check is what the invariants test.
    const member = <T>(valid: fc.Arbitrary<T> | undefined, hostile: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 6, arbitrary: valid ?? fc.constant(undefined) }, { weight: 2, arbitrary: hostile }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
    const header = fc.record({
      alg: member(fc.constant('RS256'), fc.constantFrom('rs256', 'none', 'None', 'HS256', 'ES256', 'RS512', '')),
      typ: member(fc.constantFrom(undefined, 'at+jwt', 'AT+JWT', 'JWT', 'application/at+jwt'), fc.constantFrom('dpop+jwt', 'JOSE', '', 'at+jwt ')),
      kid: member(fc.constantFrom('key-1', 'k'), fc.constantFrom('', 'k'.repeat(300), '__proto__')),
      crit: member(undefined, fc.constant(['b64'])),
      b64: member(undefined, fc.boolean()),
      enc: member(undefined, fc.constant('A256GCM')),
      cty: member(undefined, fc.constant('JWT')),
      jku: member(undefined, fc.webUrl()),
    });
    const payload = fc.oneof(fc.object({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, [], 'text', 0, true));
    const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    fc.assert(
      fc.property(header, payload, fc.base64String({ maxLength: 400 }), fc.boolean(), (h, p, sig, strict) => {
        const signature = sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') || 'AA';
        check(`${b64u(JSON.stringify(strip(h)))}.${b64u(JSON.stringify(p) ?? 'null')}.${signature}`, strict);
      }),
      { numRuns: 500 },
    );
  });

  it('mutations of a real token: only 401 invalid_token escapes', () => {
    fc.assert(
      fc.property(mutation(), (mutate) => check(mutate(validToken))),
      RUNS,
    );
  });
});

/** A random edit of a token: replace, insert or delete characters, or swap, drop or duplicate segments. */
function mutation(): fc.Arbitrary<(token: string) => string> {
  const position = fc.nat();
  const char = fc.oneof(fc.constantFrom('.', '=', '-', '_', 'A', 'z', '0', '+', '/'), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }));
  return fc.oneof(
    fc.tuple(position, char).map(
      ([i, c]) =>
        (t: string) =>
          t.slice(0, i % t.length) + c + t.slice((i % t.length) + 1),
    ),
    fc.tuple(position, char).map(
      ([i, c]) =>
        (t: string) =>
          t.slice(0, i % t.length) + c + t.slice(i % t.length),
    ),
    fc.tuple(position, fc.integer({ min: 1, max: 20 })).map(
      ([i, n]) =>
        (t: string) =>
          t.slice(0, i % t.length) + t.slice((i % t.length) + n),
    ),
    fc.constantFrom(
      (t: string) => t.split('.').reverse().join('.'),
      (t: string) => t.split('.').slice(0, 2).join('.'),
      (t: string) => `${t}.${t.split('.')[2]}`,
      (t: string) => {
        const [h, , s] = t.split('.');
        return `${h}.${h}.${s}`;
      },
      (t: string) => `${t.split('.').slice(0, 2).join('.')}.`,
    ),
  );
}

describe('buildChallenge', () => {
  // RFC 9110 §11.6.1 / §5.6: WWW-Authenticate = #challenge; challenge = auth-scheme [ 1*SP #auth-param ];
  // auth-param = token BWS "=" BWS ( token / quoted-string ). (token68 is never used by this API.)
  const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
  const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
  const PARAM = `${TOKEN}[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED})`;
  const CHALLENGE = `${TOKEN}(?: +${PARAM}(?:[ \\t]*,[ \\t]*${PARAM})*)?`;
  const WWW_AUTHENTICATE = new RegExp(`^${CHALLENGE}(?:[ \\t]*,[ \\t]*${CHALLENGE})*$`);
  const SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
  const CODES: AuthErrorCode[] = ['unauthorized', 'invalid_request', 'invalid_token', 'insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce', 'temporarily_unavailable'];

  const input: fc.Arbitrary<ChallengeInput> = fc.record(
    {
      mode: fc.constantFrom('allowed', 'required', 'disabled'),
      dpopAlgorithms: fc.oneof(fc.constant(['ES256']), fc.array(fc.oneof(fc.constantFrom('ES256', 'RS256', 'EdDSA'), anyString), { minLength: 1, maxLength: 3 })),
      error: fc.option(
        fc.record({
          code: fc.constantFrom(...CODES),
          description: fc.oneof(anyString, fc.constantFrom('', 'a "quoted" \\ text\r\nX-Injected: 1', '\u0000\u007f\u0080\uffff')),
          scope: fc.option(fc.array(fc.oneof(fc.constantFrom('read:messages', 'write:data'), anyString), { maxLength: 4 }), { nil: undefined }),
        }),
        { nil: undefined },
      ),
      scheme: fc.option(fc.constantFrom('bearer' as const, 'dpop' as const), { nil: undefined }),
      resourceMetadata: fc.option(fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), anyString), { nil: undefined }),
      realm: fc.option(anyString, { nil: undefined }),
    },
    { requiredKeys: ['mode', 'dpopAlgorithms'] },
  );

  it('every output is RFC 9110 challenge syntax, sendable by Node, and parses back to what went in', () => {
    fc.assert(
      fc.property(input, (challengeInput) => {
        const header = buildChallenge(challengeInput);
        expect(header).toMatch(WWW_AUTHENTICATE);
        expect(() => validateHeaderValue('WWW-Authenticate', header)).not.toThrow();

        const parsed = parseChallenges(header);
        const expectedSchemes = { allowed: ['Bearer', 'DPoP'], required: ['DPoP'], disabled: ['Bearer'] }[challengeInput.mode];
        expect(parsed.map((c) => c.scheme)).toEqual(expectedSchemes);
        for (const challenge of parsed) for (const value of Object.values(challenge.params)) expect(value).toMatch(SAFE);

        const dpop = parsed.find((c) => c.scheme === 'DPoP');
        if (dpop) expect(dpop.params.algs).toBeDefined();
        if (challengeInput.resourceMetadata !== undefined) for (const c of parsed) expect(c.params.resource_metadata).toBeDefined();

        const { error } = challengeInput;
        const errorOn = challengeInput.scheme ?? (challengeInput.mode === 'required' ? 'dpop' : 'bearer');
        const target = parsed.find((c) => c.scheme.toLowerCase() === errorOn);
        if (error && error.code !== 'unauthorized' && target) {
          expect(target.params.error).toBe(error.code);
          if (error.description) expect(target.params.error_description).toBe(sanitizeDescription(error.description));
        }
        if (!error || error.code === 'unauthorized') for (const c of parsed) expect(c.params.error).toBeUndefined();
        for (const c of parsed.filter((c) => c !== target)) expect(c.params.error).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('sanitizeDescription output is always RFC 6750 §3 safe and at most 200 characters', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.string({ unit: 'binary', maxLength: 2000 })), (text) => {
        const clean = sanitizeDescription(text);
        expect(clean).toMatch(SAFE);
        expect(clean.length).toBeLessThanOrEqual(200);
      }),
      RUNS,
    );
  });
});

describe('normalizeHtu', () => {
  // URLs built from the pieces that normalization is about: case, ports, dot segments, percent-encodings, unicode.
  const host = fc.constantFrom('api.example.com', 'API.Example.COM', '127.0.0.1', '[::1]', 'xn--bcher-kva.example', 'bücher.example', 'a_b.example');
  const port = fc.constantFrom('', ':80', ':443', ':8080', ':0', ':65535');
  const segment = fc.oneof(fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2e', 'a%2e', '%7e', '%7E', '%41', '%2f', '%2F', '%25', '%zz', '%', 'é', '€', '^', '|', '[', ']', "!$&'()*+,;=:@", '%C3%A9', ''), fc.string({ maxLength: 8 }));
  const url = fc
    .tuple(fc.constantFrom('http', 'https', 'HTTP', 'HtTpS'), host, port, fc.array(segment, { maxLength: 6 }), fc.constantFrom('', '?a=1', '#f', '?a=1#f', '?'))
    .map(([scheme, h, p, segments, tail]) => `${scheme}://${h}${p}/${segments.join('/')}${tail}`);

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, url, fc.webUrl()), (value) => {
        const result = normalizeHtu(value);
        expect(result === undefined || typeof result === 'string').toBe(true);
      }),
      RUNS,
    );
  });

  it('is idempotent: normalize(normalize(x)) === normalize(x)', () => {
    fc.assert(
      fc.property(fc.oneof(url, fc.webUrl({ withQueryParameters: true, withFragments: true }), anyString), (value) => {
        const once = normalizeHtu(value);
        if (once !== undefined) expect(normalizeHtu(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent for long paths too (output growth must not cross the input length cap)', () => {
    // Each "€" becomes "%E2%82%AC" (9 characters): a 1 KB input normalizes to 9 KB, over the 4096 cap.
    for (const value of [`https://api.example.com/${'€'.repeat(1000)}`, `https://api.example.com/${'^'.repeat(1400)}`]) {
      const once = normalizeHtu(value);
      if (once !== undefined) expect(normalizeHtu(once)).toBe(once);
    }
  });

  it('drops query and fragment', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.constantFrom('?a=1', '#frag', '?a=1&b=2#f'), (base, tail) => {
        const plain = normalizeHtu(base.split(/[?#]/)[0]!);
        if (plain !== undefined) expect(normalizeHtu(`${base.split(/[?#]/)[0]}${tail}`)).toBe(plain);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The whole core validator on mutated tokens: never a success for a changed token, never a non-AuthError.

describe('ApiValidator.verifyRequest on mutated tokens', () => {
  it('every mutation of a valid token is 400/401, never 200 (byte-identical re-encodings aside) and never a raw error', async () => {
    const validator = new ApiValidator({ domain: issuer.origin, audience: AUDIENCE, tokenCache: false });
    await validator.verifyRequest({ method: 'GET', url: 'http://api.test/x', headers: { authorization: `Bearer ${validToken}` } }); // warm
    await fc.assert(
      fc.asyncProperty(mutation(), async (mutate) => {
        const token = mutate(validToken);
        if (token === validToken || sameBytes(token, validToken)) return; // a non-canonical re-encoding: see the catalogue test
        try {
          await validator.verifyRequest({ method: 'GET', url: 'http://api.test/x', headers: { authorization: `Bearer ${token}` } });
          throw new Error(`mutated token accepted: ${token}`);
        } catch (error) {
          expect(error).toBeInstanceOf(AuthError);
          expect([400, 401]).toContain((error as AuthError).status);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** True when two compact tokens decode to the same bytes segment by segment (lenient base64url). */
function sameBytes(x: string, y: string): boolean {
  const xs = x.split('.');
  const ys = y.split('.');
  if (xs.length !== 3 || ys.length !== 3 || xs.slice(0, 2).join('.') !== ys.slice(0, 2).join('.')) return false;
  return /^[A-Za-z0-9_-]+$/.test(xs[2]!) && Buffer.from(xs[2]!, 'base64url').equals(Buffer.from(ys[2]!, 'base64url'));
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP: raw bytes on a socket, so that values Node's HTTP client would refuse (controls, CR/LF, NUL) reach the
// server's parser too.

interface RawReply {
  /** Status of every response on the connection (a CR/LF in a value can end the header block early and pipeline). */
  statuses: number[];
  head: string;
  body: string;
}

function rawRequest(url: string, headerBlock: Buffer): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(Buffer.concat([Buffer.from(`GET /api/private HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`), headerBlock, Buffer.from('Connection: close\r\n\r\n')]));
    });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const statuses = [...raw.matchAll(/(?:^|\r\n)HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ statuses, head, body });
    });
  });
}

describe('HTTP fuzz against the demo', () => {
  const rawValue = fc.oneof(
    anyString.map((s) => Buffer.from(s, 'utf8')),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    headerish.map((s) => Buffer.from(s, 'latin1')),
    mutation().map((m) => Buffer.from(m(validToken), 'utf8')),
  );
  const prefix = fc.constantFrom('', 'Bearer ', 'DPoP ', 'bearer  ', 'Basic ');
  const field = fc.record({
    authorization: fc.array(fc.tuple(prefix, rawValue), { maxLength: 2 }),
    dpop: fc.array(rawValue, { maxLength: 2 }),
  });

  it('arbitrary Authorization/DPoP bytes never yield a 5xx, always get an answer, and never crash the server', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(field, async ({ authorization, dpop }) => {
        const lines = [...authorization.map(([p, v]) => Buffer.concat([Buffer.from(`Authorization: ${p}`), v, Buffer.from('\r\n')])), ...dpop.map((v) => Buffer.concat([Buffer.from('DPoP: '), v, Buffer.from('\r\n')]))];
        const block = Buffer.concat(lines);
        const reply = await rawRequest(demo.url, block);
        for (const status of reply.statuses) expect([400, 401, 403, 431], reply.head).toContain(status);
        // A value holding CR or LF can end the header block early: what follows is a second, garbage request, and
        // Node may drop the connection without answering either one. Every other request gets a JSON answer.
        const splitsRequest = block.includes(13) || block.includes(10);
        if (!splitsRequest) {
          expect(reply.statuses, reply.head).toHaveLength(1);
          expect(JSON.parse(reply.body)).toEqual({ error: expect.any(String), error_description: expect.any(String) });
        }
        for (const status of reply.statuses) seen.set(status, (seen.get(status) ?? 0) + 1);
      }),
      { numRuns: 200 },
    );
    // Both the HTTP parser (400) and the validator (401) were exercised.
    expect(seen.get(401)).toBeGreaterThan(0);
    expect(seen.get(400)).toBeGreaterThan(0);
    // Still alive and still correct.
    const ok = await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${validToken}` } });
    expect(ok.status).toBe(200);
  });
});
