// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by area of the code and the top functions.

const AREAS = [
  ['idle', (u, f) => f === '(idle)'],
  ['gc', (u, f) => f === '(garbage collector)'],
  ['program (native, unattributed)', (u, f) => f === '(program)'],
  ['ours: core', (u) => u.includes('/build/dist/src/core/')],
  ['ours: express/tsoa glue', (u) => /\/build\/dist\/src\/(express|tsoa)\//.test(u)],
  ['demo app + generated routes', (u) => /\/build\/(dist\/src\/demo|dist\/build\/generated|generated)\//.test(u)],
  ['jose', (u) => u.includes('/node_modules/jose/')],
  ['express-oauth2-jwt-bearer', (u) => u.includes('/node_modules/express-oauth2-jwt-bearer/')],
  ['tsoa runtime', (u) => u.includes('/node_modules/@tsoa/')],
  [
    'express + router + body parsers',
    (u) =>
      /\/node_modules\/(express|router|body-parser|raw-body|type-is|finalhandler|send|serve-static|qs|content-type|on-finished|path-to-regexp|mime-types|media-typer|iconv-lite|debug|swagger-ui-express|accepts|negotiator|encodeurl|etag|fresh|vary|parseurl|cookie|merge-descriptors|statuses|http-errors|depd|proxy-addr|forwarded|range-parser)\//.test(
        u,
      ),
  ],
  ['other node_modules', (u) => u.includes('/node_modules/')],
  ['node: crypto', (u) => /^node:internal\/crypto/.test(u)],
  [
    'node: http/net/streams',
    (u) =>
      /^node:(internal\/)?(http|_http|net|stream|internal\/streams|internal\/stream_base|events|buffer|internal\/buffer|timers|internal\/timers|internal\/process\/task_queues|internal\/async_hooks|internal\/event_target)/.test(u) ||
      /^node:(_http_|internal\/http)/.test(u),
  ],
  ['node: other', (u) => u.startsWith('node:')],
  ['bench harness', (u) => u.includes('/bench/')],
  ['native / builtins', (u) => u === ''],
];

export function summarizeProfile(profile, { top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (no URL: crypto jobs, writev, JSON.parse…) are charged to the nearest JS caller's area.
  const areaOf = (id) => {
    const special = byId.get(id).callFrame.functionName;
    if (special === '(garbage collector)' || special === '(program)' || special === '(idle)') return AREAS.find(([, t]) => t('', special))[0];
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at).callFrame;
      if (url) return AREAS.find(([, test]) => test(url, functionName))?.[0] ?? 'other';
    }
    return 'native / builtins';
  };
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const areas = new Map();
  const fns = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = functionName || '(anonymous)';
    const area = areaOf(id);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|build)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const busy = total - (areas.get('idle') ?? 0);
  // Inclusive (self + callees) time of the frames in our code, tsoa, the peer and jose, per function; a function
  // on the stack twice (recursion) is counted once per sample.
  const inclusive = new Map();
  const watched = (url) => /\/build\/|@tsoa|express-oauth2-jwt-bearer|\/jose\//.test(url);
  for (const [id, us] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at).callFrame;
      if (!watched(url)) continue;
      const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|build)\//, '$1/')}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const pct = (us, of) => `${((100 * us) / of).toFixed(1).padStart(5)}%`;
  const lines = [`CPU profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (shares of busy time)`, '', 'self time by area (native frames charged to their nearest JS caller):'];
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1])) if (area !== 'idle') lines.push(`  ${pct(us, busy)}  ${area}`);
  lines.push('', `top ${top} functions (self):`);
  for (const [fn, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top + 1)) if (!fn.startsWith('(idle)')) lines.push(`  ${pct(us, busy)}  ${fn}`);
  lines.push('', `top ${top} frames of ours/tsoa/peer/jose by inclusive time (self + callees):`);
  for (const [fn, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us, busy)}  ${fn}`);
  return lines.join('\n');
}
