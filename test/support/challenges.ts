/** RFC 9110 challenge parsing for tests of every layer (no server needed). */

/** Parses a WWW-Authenticate value into challenges: [{ scheme, params }]. RFC 9110 §11.6.1 syntax. */
export function parseChallenges(header: string | null): Array<{ scheme: string; params: Record<string, string> }> {
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  if (!header) return out;
  const re = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+|(?=,)|$)|\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))\s*,?/y;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < header.length) {
    re.lastIndex = pos;
    const rest = header.slice(pos);
    if (/^\s*,\s*/.test(rest)) {
      pos += /^\s*,\s*/.exec(rest)![0].length;
      continue;
    }
    m = re.exec(header);
    if (!m) throw new Error(`unparseable challenge at ${pos}: ${header}`);
    if (m[2] !== undefined && out.length > 0) {
      out[out.length - 1]!.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4]!;
    } else if (m[1] !== undefined) {
      out.push({ scheme: m[1], params: {} });
    } else {
      throw new Error(`parameter before scheme: ${header}`);
    }
    pos = re.lastIndex;
  }
  return out;
}
