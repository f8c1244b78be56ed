/**
 * Where else a token may travel (src/core/http/token-params.ts, RFC 6750 §2.2 and §2.3): an `access_token` query or
 * form parameter in every spelling a parser turns into it is found, so the core refuses the request
 * (docs/decisions.md D3) and never serves it as anonymous (D28). Bodies: parsed objects, raw form text or bytes,
 * and an unread form body (fails closed).
 */
import { describe, expect, it } from 'vitest';
import { bodyMayCarryToken, hasTokenParam, isTokenParamName, queryHasTokenParam, type BodyFacts } from '../../../src/core/http/token-params.js';

describe('isTokenParamName', () => {
  it.each([
    ['access_token', true],
    ['access_token[]', true],
    ['access_token[x]', true],
    ['access_token[0][y]', true],
    ['access_token.x', true], // qs with allowDots
    ['access_token[', true],
    ['access_token.', true],
    ['access_tokens', false],
    ['access_token_x', false],
    ['access_token ', false],
    ['access_token]', false],
    ['ACCESS_TOKEN', false], // names are case-sensitive in every parser
    ['Access_token', false],
    ['access_toke', false],
    ['xaccess_token', false],
    [' access_token', false],
    ['', false],
  ])('%j → %s', (name, expected) => {
    expect(isTokenParamName(name)).toBe(expected);
  });
});

describe('hasTokenParam (the raw scan)', () => {
  it.each([
    ['access_token=x', true],
    ['a=1&ACCESS_TOKEN=x', false], // names are case-sensitive in every parser
    ['a+b=1&access_token+=x', false], // "access_token " is another name
    ['%61ccess_token=x', true],
    ['access_token%2Ex=1', true],
    ['access_token%=x', false], // undecodable: kept raw, as qs does, and "access_token%" is another name
    ['access_token]=x', false],
    ['=access_token', false],
  ])('%s → %s', (raw, expected) => {
    expect(hasTokenParam(raw)).toBe(expected);
  });
});

describe('hasTokenParam: every spelling and separator', () => {
  it.each([
    ['', false],
    ['a=1&b=2', false],
    ['access_token', true], // a name without "=" is still a parameter
    ['access_token=', true],
    ['a=1&access_token=x&b=2', true],
    ['a=1;access_token=x', true], // ";" separates like "&"
    ['a=1;;access_token', true],
    ['access_token[]=x', true],
    ['access_token[]=x&access_token[]=y', true],
    ['access_token[x]=y', true],
    ['access_token.x=y', true],
    ['access_token%5B%5D=x', true], // percent-encoded brackets
    ['access_token%5Bx%5D=y', true],
    ['%61%63%63%65%73%73%5F%74%6F%6B%65%6E=x', true], // entirely percent-encoded
    ['access%5Ftoken=x', true],
    ['%E0%A4%A=1&access%5Ftoken=x', true], // an undecodable name earlier does not stop the scan
    ['access%5Ftoken%=x', false], // undecodable: kept raw, so it is not the name
    ['access_tokenx=1', false],
    ['my_access_token=1', false],
    ['a=access_token', false], // values are never read
    ['a=access_token%3D1', false],
    ['access+token=x', false], // "+" is a space: "access token"
    ['+access_token=x', false], // " access_token"
    ['access_token+%5B%5D=x', false], // "access_token []"
  ])('%j → %s', (raw, expected) => {
    expect(hasTokenParam(raw)).toBe(expected);
  });

  it('finds the parameter after more than 1,000 others (qs stops there; the scan does not)', () => {
    const raw = `${Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join('&')}&access_token=x`;
    expect(hasTokenParam(raw)).toBe(true);
  });
});

describe('queryHasTokenParam (a request target)', () => {
  it.each([
    ['/orders', false],
    ['/orders?', false],
    ['/access_token', false], // the path is not the query
    ['/access_token?a=1', false],
    ['/orders?access_token=x', true],
    ['/orders?a=1&access_token[]=x', true],
    ['/orders?a=1;access_token.y=x', true],
    ['/orders?%61ccess_token=x', true],
    ['/orders?a=b?access_token=x', false], // the query is "a=b?access_token=x": one parameter named "a"
    ['/orders?a=b&c?access_token=x', false], // "c?access_token" is another name
    ['/orders?q=access_token', false],
  ])('%j → %s', (target, expected) => {
    expect(queryHasTokenParam(target)).toBe(expected);
  });
});

describe('bodyMayCarryToken', () => {
  const FORM = 'application/x-www-form-urlencoded';
  const facts = (overrides: Partial<BodyFacts>): BodyFacts => ({
    contentLength: '20',
    transferEncoding: undefined,
    contentType: FORM,
    body: undefined,
    unread: false,
    ...overrides,
  });

  describe('a request without a body (RFC 9112 §6.3)', () => {
    it('is false with neither Content-Length nor Transfer-Encoding, whatever the rest says', () => {
      expect(bodyMayCarryToken(facts({ contentLength: undefined, body: { access_token: 'x' }, unread: true }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentLength: undefined, body: 'access_token=x' }))).toBe(false);
    });

    it('is false with Content-Length: 0', () => {
      expect(bodyMayCarryToken(facts({ contentLength: '0', unread: true }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentLength: '0', body: { access_token: 'x' } }))).toBe(false);
    });

    it('counts a chunked body (Transfer-Encoding without Content-Length)', () => {
      expect(bodyMayCarryToken(facts({ contentLength: undefined, transferEncoding: 'chunked', unread: true }))).toBe(true);
      expect(bodyMayCarryToken(facts({ contentLength: undefined, transferEncoding: 'chunked', body: 'access_token=x' }))).toBe(true);
    });
  });

  describe('a body parsed into an object', () => {
    it.each([
      [{ access_token: 'x' }, true],
      [{ 'access_token[]': ['x'] }, true], // a simple parser keeps the bracketed name
      [{ 'access_token.a': 'x' }, true],
      [{ a: 1, 'access_token[k]': 'x' }, true],
      [{ a: 'access_token' }, false],
      [{ accessToken: 'x' }, false],
      [{}, false],
    ])('%j → %s', (body, expected) => {
      expect(bodyMayCarryToken(facts({ body }))).toBe(expected);
    });

    it('counts the key whatever the content type (a JSON body with access_token)', () => {
      expect(bodyMayCarryToken(facts({ contentType: 'application/json', body: { access_token: 'x' } }))).toBe(true);
    });

    it('is false for a JSON body without the key, and for arrays and null', () => {
      expect(bodyMayCarryToken(facts({ contentType: 'application/json', body: { name: 'a', token: 'b' } }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentType: 'application/json', body: ['access_token'] }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentType: 'application/json', body: null }))).toBe(false);
    });

    it('reads own keys only, not inherited ones', () => {
      const body = Object.create({ access_token: 'x' }) as object;
      expect(bodyMayCarryToken(facts({ body }))).toBe(false);
    });
  });

  describe('a form body read as text or bytes', () => {
    it.each([
      ['access_token=x', true],
      ['a=1&access_token%5B%5D=x', true],
      ['a=1;access_token.x=y', true],
      ['a=1&b=access_token', false],
      ['', false],
    ])('text %j → %s', (body, expected) => {
      expect(bodyMayCarryToken(facts({ body }))).toBe(expected);
    });

    it('scans bytes (Buffer and a Uint8Array view into a larger buffer)', () => {
      expect(bodyMayCarryToken(facts({ body: Buffer.from('a=1&access_token=x') }))).toBe(true);
      expect(bodyMayCarryToken(facts({ body: Buffer.from('a=1&b=2') }))).toBe(false);
      const whole = new TextEncoder().encode('junk&access_token=x&more');
      expect(bodyMayCarryToken(facts({ body: whole.subarray(5, 19) }))).toBe(true); // "access_token=x"
      expect(bodyMayCarryToken(facts({ body: whole.subarray(0, 4) }))).toBe(false); // "junk"
    });

    it('accepts the form type with parameters, in any case, with spaces', () => {
      expect(bodyMayCarryToken(facts({ contentType: 'Application/X-WWW-Form-Urlencoded; charset=utf-8', body: 'access_token=x' }))).toBe(true);
      expect(bodyMayCarryToken(facts({ contentType: '  application/x-www-form-urlencoded  ', body: 'access_token=x' }))).toBe(true);
    });

    it('does not scan text or bytes of another type', () => {
      expect(bodyMayCarryToken(facts({ contentType: 'text/plain', body: 'access_token=x' }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentType: 'application/json', body: Buffer.from('access_token=x') }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentType: 'application/x-www-form-urlencodedx', body: 'access_token=x' }))).toBe(false);
      expect(bodyMayCarryToken(facts({ contentType: undefined, body: 'access_token=x' }))).toBe(false);
    });
  });

  describe('a body nobody read', () => {
    it('fails closed for a form (it may carry a token the app does not parse)', () => {
      expect(bodyMayCarryToken(facts({ unread: true }))).toBe(true);
      expect(bodyMayCarryToken(facts({ unread: true, contentType: 'application/x-www-form-urlencoded;charset=utf-8' }))).toBe(true);
    });

    it('is false for another type, and for a form a parser read into something else', () => {
      expect(bodyMayCarryToken(facts({ unread: true, contentType: 'application/json' }))).toBe(false);
      expect(bodyMayCarryToken(facts({ unread: true, contentType: undefined }))).toBe(false);
      expect(bodyMayCarryToken(facts({ unread: false }))).toBe(false);
    });
  });
});
