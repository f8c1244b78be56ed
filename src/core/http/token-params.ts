/**
 * Where else a token may travel (RFC 6750 §2.2 form body, §2.3 query): an `access_token` parameter in any spelling a
 * parser turns into it. The core refuses such requests (docs/decisions.md D3) and never serves them as anonymous
 * (D28), so every adapter must find the parameter whatever parser its app uses. Framework-neutral: raw strings in.
 */

const TOKEN_PARAM = 'access_token';

/**
 * Whether a parameter name (already decoded) is `access_token` in a spelling some parser turns into it: itself, or
 * qs's nested forms `access_token[]`, `access_token[x]` and (with `allowDots`) `access_token.x`.
 */
export function isTokenParamName(name: string): boolean {
  if (!name.startsWith(TOKEN_PARAM)) return false;
  const next = name.charCodeAt(TOKEN_PARAM.length);
  return Number.isNaN(next) || next === 0x5b /* [ */ || next === 0x2e; /* . */
}

/** Percent-decoding as query parsers do it (`+` is a space); an undecodable name stays as it is, as in qs. */
function decodeParamName(name: string): string {
  const spaced = name.includes('+') ? name.replace(/\+/g, ' ') : name;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * Whether a raw `application/x-www-form-urlencoded` string (a query string or a form body) has an `access_token`
 * parameter in any spelling. Read raw, whatever parser the app uses (Express 5's `simple` keeps `access_token[]` as
 * a name of its own, qs nests it, and qs stops after 1,000 parameters), and split on `&` and `;` (the separators
 * parsers accept). Names only: values are never decoded.
 */
export function hasTokenParam(raw: string): boolean {
  // Fast path: the name cannot be there without its text or a percent-encoding.
  if (!raw.includes(TOKEN_PARAM) && !raw.includes('%')) return false;
  for (const pair of raw.split(/[&;]/)) {
    const equals = pair.indexOf('=');
    if (isTokenParamName(decodeParamName(equals === -1 ? pair : pair.slice(0, equals)))) return true;
  }
  return false;
}

/** Whether the request target's query string has an `access_token` parameter in any spelling. */
export function queryHasTokenParam(target: string): boolean {
  const question = target.indexOf('?');
  return question !== -1 && hasTokenParam(target.slice(question + 1));
}

const FORM = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i;

/** What an adapter knows of a request's body. */
export interface BodyFacts {
  /** `Content-Length`, `Transfer-Encoding` and `Content-Type` as received. */
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  contentType: string | undefined;
  /** The parsed body, if a parser ran (object, string or bytes). */
  body: unknown;
  /** True when no parser consumed the body (it is still unread on the socket). */
  unread: boolean;
}

/**
 * Whether the body may carry `access_token` (RFC 6750 §2.2), for a request that has a body (RFC 9112 §6.3: it has
 * `Content-Length` or `Transfer-Encoding`):
 *
 * - parsed into an object: any own key that is the parameter in any spelling;
 * - parsed into text or bytes of a form: the raw form, scanned like a query;
 * - not read by anyone while its type is a form: counted, since the form may carry a token the app merely does not
 *   parse. The request cannot be told apart without reading a body the app chose not to read, so it fails closed: an
 *   anonymous client posting a form to an optional route of an app that does not parse forms gets 401, never an
 *   anonymous answer.
 */
export function bodyMayCarryToken(facts: BodyFacts): boolean {
  if (facts.contentLength === undefined && facts.transferEncoding === undefined) return false;
  if (facts.contentLength === '0') return false;
  const form = FORM.test(facts.contentType ?? '');
  const { body } = facts;
  if (typeof body === 'string') return form && hasTokenParam(body);
  if (body instanceof Uint8Array) return form && hasTokenParam(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'));
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).some(isTokenParamName)) return true;
  return form && facts.unread;
}
