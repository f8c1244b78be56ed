/**
 * The DPoP `htu` comparison (RFC 9449 §4.3): the request URL without query and fragment, after RFC 3986 §6.2.2
 * syntax-based normalization: scheme and host lower-cased, default port removed, dot segments resolved, percent
 * encodings of unreserved characters decoded and the others upper-cased. A trailing slash is significant.
 */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

function normalizePercentEncoding(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** Returns the normalized form, or undefined when the value is not an absolute http(s) URL. */
export function normalizeHtu(value: string): string | undefined {
  if (typeof value !== 'string' || value.length > 4096) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  // WHATWG URL already lower-cases scheme and host, drops default ports and resolves dot segments.
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname)}`;
}

/** True when the proof's `htu` names the same resource as the request URL. */
export function htuMatches(proofHtu: unknown, requestUrl: string): boolean {
  if (typeof proofHtu !== 'string') return false;
  const a = normalizeHtu(proofHtu);
  return a !== undefined && a === normalizeHtu(requestUrl);
}
