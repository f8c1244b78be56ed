/**
 * The `htu` comparison of DPoP proofs (RFC 9449 §4.3 with RFC 3986 §6.2.2/§6.2.3 normalization): which URLs name
 * the same resource, which do not, and which values are refused outright.
 */
import { describe, expect, it } from 'vitest';
import { htuMatches, normalizeHtu } from '../../../src/core/http/htu.js';

const BASE = 'https://api.example.com/api/private';

/** [proof htu, request URL]: pairs that must match. */
const EQUIVALENT: Array<[string, string, string]> = [
  ['identical', BASE, BASE],
  ['query ignored', BASE, `${BASE}?page=2&access=x`],
  ['fragment ignored', `${BASE}#section`, BASE],
  ['query and fragment on both sides', `${BASE}?a=1#f`, `${BASE}?b=2`],
  ['scheme case', 'HTTPS://api.example.com/api/private', BASE],
  ['host case', 'https://API.Example.COM/api/private', BASE],
  ['default https port dropped', 'https://api.example.com:443/api/private', BASE],
  ['default http port dropped', 'http://api.example.com:80/api/private', 'http://api.example.com/api/private'],
  ['empty port dropped', 'https://api.example.com:/api/private', BASE],
  ['unreserved %72 decodes to r', 'https://api.example.com/api/p%72ivate', BASE],
  ['unreserved encodings in any case', 'https://api.example.com/%61pi/priv%61te', BASE],
  ['%7e and ~', 'https://api.example.com/~user', 'https://api.example.com/%7e%75ser'],
  ['reserved %2f upper-cased, stays encoded', 'https://api.example.com/a%2fb', 'https://api.example.com/a%2Fb'],
  ['non-ASCII and its UTF-8 encoding', 'https://api.example.com/caf%c3%a9', 'https://api.example.com/café'],
  ['characters RFC 3986 forbids raw, and their encoding', 'https://api.example.com/a%5Eb%7Cc', 'https://api.example.com/a^b|c'],
  ['dot segments resolved', 'https://api.example.com/api/./x/../private', BASE],
  ['encoded dot segments resolved', 'https://api.example.com/api/x/%2E%2e/private', BASE],
  // Node 20's WHATWG parser keeps this final `.` after a raw `|` (and after `.@`) but drops it after `%7C`.
  ['final dot segment after a raw |', 'https://api.example.com/|/.@/.', 'https://api.example.com/%7C/.@/'],
  ['final dot segment after .@', 'https://api.example.com/x/.@/.', 'https://api.example.com/x/.@/'],
  ['empty path is /', 'https://api.example.com', 'https://api.example.com/'],
  ['IDN host and its punycode', 'https://bücher.example/x', 'https://xn--bcher-kva.example/x'],
  ['IPv6 host with default port', 'https://[::1]:443/x', 'https://[0:0::1]/x'],
];

/** [proof htu, request URL]: pairs that name different resources. */
const DIFFERENT: Array<[string, string, string]> = [
  ['trailing slash is significant', `${BASE}/`, BASE],
  ['path case is significant', 'https://api.example.com/API/private', BASE],
  ['scheme differs', 'http://api.example.com/api/private', BASE],
  ['host differs', 'https://api.example.org/api/private', BASE],
  ['subdomain differs', 'https://www.api.example.com/api/private', BASE],
  ['non-default port kept', 'https://api.example.com:8443/api/private', BASE],
  ['port 80 is not default for https', 'https://api.example.com:80/api/private', BASE],
  ['port 443 is not default for http', 'http://api.example.com:443/api/private', 'http://api.example.com/api/private'],
  ['%2f is not a path separator', 'https://api.example.com/api%2fprivate', BASE],
  ['%25 is not decoded twice', 'https://api.example.com/api/p%2572ivate', BASE],
  ['other path', 'https://api.example.com/api/public', BASE],
  ['prefix of the path', 'https://api.example.com/api', BASE],
];

/** Values that are not absolute http(s) URLs. */
const REFUSED: Array<[string, string]> = [
  ['relative path', '/api/private'],
  ['scheme-relative', '//api.example.com/api/private'],
  ['ftp', 'ftp://api.example.com/api/private'],
  ['websocket', 'wss://api.example.com/api/private'],
  ['javascript', 'javascript:alert(1)'],
  ['file', 'file:///etc/passwd'],
  ['garbage', 'not a url'],
  ['empty', ''],
  ['no authority (WHATWG would guess a host)', 'https:api.example.com/api/private'],
  ['three slashes (WHATWG would guess a host)', 'https:///api.example.com/api/private'],
  ['credentials', 'https://user:pass@api.example.com/api/private'],
  ['backslash (WHATWG rewrites it to /)', 'https://api.example.com\\api\\private'],
  ['embedded newline (WHATWG strips it)', 'https://api.example.com/api/pri\nvate'],
  ['embedded tab', 'https://api.example.com/api/pri\tvate'],
  ['leading space', ' https://api.example.com/api/private'],
  ['overlong', `https://api.example.com/${'a'.repeat(9000)}`],
  ['overlong once percent-encoded', `https://api.example.com/${'€'.repeat(1000)}`],
];

describe('htu normalization', () => {
  it.each(EQUIVALENT)('matches: %s', (_name, proofHtu, requestUrl) => {
    expect(htuMatches(proofHtu, requestUrl)).toBe(true);
    expect(htuMatches(requestUrl, proofHtu)).toBe(true);
  });

  it.each(DIFFERENT)('differs: %s', (_name, proofHtu, requestUrl) => {
    expect(htuMatches(proofHtu, requestUrl)).toBe(false);
    expect(htuMatches(requestUrl, proofHtu)).toBe(false);
  });

  it.each(REFUSED)('refuses: %s', (_name, value) => {
    expect(normalizeHtu(value)).toBeUndefined();
    expect(htuMatches(value, BASE)).toBe(false);
  });

  it('refuses a proof htu that matches nothing even when the request URL is refused too', () => {
    expect(htuMatches('garbage', 'garbage')).toBe(false);
    expect(htuMatches('ftp://x/y', 'ftp://x/y')).toBe(false);
  });

  it('refuses non-string proof values', () => {
    for (const value of [undefined, null, 42, ['https://api.example.com/api/private'], { href: BASE }]) {
      expect(htuMatches(value, BASE)).toBe(false);
    }
  });

  it('ignores a long query string on the request URL (the length cap applies to what is compared)', () => {
    expect(htuMatches(BASE, `${BASE}?q=${'x'.repeat(12_000)}`)).toBe(true);
    expect(htuMatches(`${BASE}#${'f'.repeat(12_000)}`, BASE)).toBe(true);
  });

  it('accepts long paths up to the cap', () => {
    const path = `/${'a'.repeat(8000)}`;
    expect(htuMatches(`https://api.example.com${path}`, `https://API.example.com:443${path}?x=1`)).toBe(true);
  });

  it('is idempotent, long paths included', () => {
    for (const value of [...EQUIVALENT.flatMap(([, a, b]) => [a, b]), `https://api.example.com/${'^'.repeat(2000)}`, `https://api.example.com/${'é'.repeat(1300)}`]) {
      const once = normalizeHtu(value);
      expect(once).toBeDefined();
      expect(normalizeHtu(once!)).toBe(once);
    }
  });

  it('produces the canonical form', () => {
    expect(normalizeHtu('HTTPS://API.Example.COM:443/a/./b/../%7e%2f%5e?q=1#f')).toBe('https://api.example.com/a/~%2F%5E');
    expect(normalizeHtu('http://LOCALHOST:8080')).toBe('http://localhost:8080/');
  });
});
