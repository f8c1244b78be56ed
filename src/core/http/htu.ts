/**
 * The DPoP `htu` comparison (RFC 9449 §4.3): the request URL without query and fragment, after RFC 3986 §6.2.2
 * syntax-based normalization: scheme and host lower-cased, default port removed, dot segments resolved, percent
 * encodings of unreserved characters decoded and the others upper-cased. A trailing slash is significant.
 */
const UNRESERVED = /[A-Za-z0-9\-._~]/;
// `scheme://` followed by a host: WHATWG URL would also take `https:host/x` or `https:///host/x`, which RFC 3986
// reads differently (no authority), so such values are refused rather than guessed at.
const ABSOLUTE_HTTP = /^https?:\/\/[^/\\?#]/i;
// Whitespace, controls and backslashes: WHATWG URL silently strips or rewrites them.
const FORBIDDEN = /[\x00-\x20\x7f\\]/;
// A percent encoding, or a character RFC 3986 does not allow in a path (WHATWG leaves `^ | [ ]` raw).
const PATH_TOKEN = /%([0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g;

function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

function normalizePath(path: string): string {
  return path.replace(PATH_TOKEN, (match, hex: string | undefined) => {
    if (hex === undefined) return percentEncode(match);
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * RFC 3986 §5.2.4 for an absolute path. WHATWG URL resolves dot segments already, but not always: Node 20's parser
 * keeps the final `.` of `/|/.@/.` and drops it from `/%7C/.@/.`, so normalizing twice gave two answers.
 */
function removeDotSegments(path: string): string {
  if (!/(^|\/)\.\.?(\/|$)/.test(path)) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment !== '.' && segment !== '..') out.push(segment);
    else {
      if (segment === '..') out.pop();
      if (i === segments.length - 1) out.push('');
    }
  }
  return `/${out.join('/')}`;
}

/** Longest URL (without query and fragment) compared, before and after normalization. A proof is at most 8 KiB. */
const MAX_HTU_LENGTH = 8192;

/** Returns the normalized form, or undefined when the value is not an absolute http(s) URL. */
export function normalizeHtu(value: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Query and fragment are not compared: cut them first, so that a long query string cannot hit the length cap.
  const end = value.search(/[?#]/);
  const resource = end === -1 ? value : value.slice(0, end);
  if (resource.length > MAX_HTU_LENGTH || !ABSOLUTE_HTTP.test(resource) || FORBIDDEN.test(resource)) return undefined;
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  // WHATWG URL lower-cases scheme and host, drops default ports and resolves most dot segments (§6.2.2.3: after
  // percent-encoding normalization, the rest are removed here).
  const normalized = `${url.protocol}//${url.host}${removeDotSegments(normalizePath(url.pathname))}`;
  // Percent-encoding can triple the length; capping the output too keeps normalization idempotent.
  return normalized.length <= MAX_HTU_LENGTH ? normalized : undefined;
}

/**
 * Normalized forms of recent values (a route's URL and its clients' `htu`s repeat on every request; each normalization
 * parses a URL). Only short values, at most {@link MEMO_SIZE} of them, oldest first out: a few KB at most.
 */
const MEMO_SIZE = 256;
const MEMO_MAX_LENGTH = 512;
const memo = new Map<string, string | null>();

function normalizedOnce(value: string): string | undefined {
  const known = memo.get(value);
  if (known !== undefined) return known ?? undefined;
  const normalized = normalizeHtu(value);
  if (value.length <= MEMO_MAX_LENGTH) {
    if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
    memo.set(value, normalized ?? null);
  }
  return normalized;
}

/** True when the proof's `htu` names the same resource as the request URL. */
export function htuMatches(proofHtu: unknown, requestUrl: string): boolean {
  if (typeof proofHtu !== 'string') return false;
  const a = normalizedOnce(proofHtu);
  return a !== undefined && a === normalizedOnce(requestUrl);
}
