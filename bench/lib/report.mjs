// Turns the benchmark results into bench/results/latest.md (Markdown tables) and latest.svg (a hand-rolled bar
// chart of the ratios, no dependencies).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const median = (a) => (a.length ? [...a].sort((x, y) => x - y)[a.length >> 1] : NaN);
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Median req/s and p99, ratio to (a) (of medians, and the per-round range) and to the matching peer case. */
export function summarize(cases, results) {
  const base = results.public ?? [];
  const baseMedian = median(base.map((r) => r.rps));
  const rows = cases.map((c) => {
    const runs = results[c.id] ?? [];
    const rps = median(runs.map((r) => r.rps));
    const perRound = runs.map((r) => {
      const b = base.find((x) => x.round === r.round);
      return b ? r.rps / b.rps : NaN;
    }).filter(Number.isFinite);
    const peerRuns = c.peer ? results[c.peer] ?? [] : [];
    const perRoundPeer = runs.map((r) => {
      const p = peerRuns.find((x) => x.round === r.round);
      return p ? r.rps / p.rps : NaN;
    }).filter(Number.isFinite);
    return {
      ...c,
      rps,
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      vsBase: rps / baseMedian,
      vsBaseMin: Math.min(...perRound),
      vsBaseMax: Math.max(...perRound),
      vsBaseRound: median(perRound),
      vsPeerRound: median(perRoundPeer),
      vsPeer: peerRuns.length ? rps / median(peerRuns.map((r) => r.rps)) : NaN,
      non2xx: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      wrapped: runs.some((r) => r.wrapped),
      samples: runs.map((r) => Math.round(r.rps)),
    };
  });
  return Object.fromEntries(rows.map((r) => [r.id, r]));
}

function microRow(micro, name) {
  return micro?.rows.find((r) => r.name === name);
}

function targets(s, micro) {
  const t = [];
  const add = (what, value, goal, perRound) => t.push({ what, value, goal, perRound, met: Number.isFinite(value) ? value >= goal : undefined });
  if (s['ours-bearer']) {
    add('Bearer RS256, same token: vs (a) unauthenticated', s['ours-bearer'].vsBase, 0.9, s['ours-bearer'].vsBaseRound);
    add('Bearer RS256, same token: vs peer', s['ours-bearer'].vsPeer, 1.8, s['ours-bearer'].vsPeerRound);
  }
  if (s['ours-bearer-unique']) add('Bearer RS256, unique token: vs peer', s['ours-bearer-unique'].vsPeer, 1.3, s['ours-bearer-unique'].vsPeerRound);
  if (s['ours-dpop']) add('DPoP, unique proof (memory replay store): vs peer DPoP', s['ours-dpop'].vsPeer, 1.5, s['ours-dpop'].vsPeerRound);
  const miss = microRow(micro, 'core verifyAccessToken, cache off (miss)');
  if (miss) add('Core micro, Bearer cache miss (seq): vs crypto.verify floor', miss.vsFloor, 0.5);
  return t;
}

export function writeReport({ dir, meta, cases, results, micro, memory }) {
  const s = summarize(cases, results);
  const md = [];
  md.push('# Authentication overhead — latest `npm run bench`', '');
  md.push(`- date: ${meta.date}; node ${meta.node}, OpenSSL ${meta.openssl}; ${meta.cpus}; load average at the end: ${meta.loadavg}`);
  md.push(`- HTTP: ${meta.rounds} interleaved rounds × ${meta.duration} s per case, autocannon c=${meta.connections} on 127.0.0.1; every server in its own forked process (with the local discovery/JWKS server); express-oauth2-jwt-bearer ${meta.eojb} as the peer; medians over rounds; total run ${meta.elapsed} s`);
  md.push('- "vs (a)" and "vs peer" are ratios of medians (the targets use these); "per round" ratios compare runs of the same round, which cancels slow drifts of the machine\'s load. Read ratios, not absolutes: the machine is a noisy 2-core VM shared by the server and the load generator (and, here, by other work).', '');

  if (cases.length) {
    md.push('## HTTP (Express 5)', '');
    md.push('| case | median req/s | p50 ms | p99 ms | vs (a) | vs (a) per round: median (range) | vs peer | vs peer per round | non-2xx/errors | runs (req/s) |');
    md.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const c of cases) {
      const r = s[c.id];
      md.push(`| ${r.label}${r.wrapped ? ' ⚠ pool wrapped' : ''} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 0)} | ${fmt(r.p99, 0)} | ${fmt(r.vsBase)} | ${fmt(r.vsBaseRound)} (${fmt(r.vsBaseMin)}–${fmt(r.vsBaseMax)}) | ${fmt(r.vsPeer)} | ${fmt(r.vsPeerRound)} | ${r.non2xx} | ${r.samples.join(', ')} |`);
    }
    md.push('');
  }

  const t = targets(s, micro);
  if (t.length) {
    md.push('## Targets (issue 6)', '', '| target | measured (ratio of medians) | per round (median) | goal | met |', '|---|---:|---:|---:|:---:|');
    for (const x of t) md.push(`| ${x.what} | ${fmt(x.value)}× | ${x.perRound === undefined ? '–' : `${fmt(x.perRound)}×`} | ≥ ${x.goal}× | ${x.met === undefined ? '–' : x.met ? 'yes' : '**no**'} |`);
    md.push('');
  }

  if (micro) {
    md.push(`## Micro-benchmark (core, in-process; ${micro.rounds} rounds × ${micro.ms} ms, median)`, '');
    md.push('"seq" awaits one call at a time; "c32" keeps 32 in flight; "sync" is a plain loop. The floor of each group is a synchronous `crypto.verify` of the same signature over pre-split input.', '');
    md.push('| group | case | mode | ops/s | µs/op | vs floor |', '|---|---|---|---:|---:|---:|');
    for (const r of micro.rows) md.push(`| ${r.group} | ${r.name} | ${r.mode} | ${r.median} | ${fmt(r.usPerOp, 1)} | ${fmt(r.vsFloor)} |`);
    md.push('');
  }

  if (memory) {
    md.push('## Memory', '');
    if (memory.load) {
      const l = memory.load;
      md.push(`Sustained run: ${l.duration} s against our Bearer route (demo app) with a different valid token per request (a pool of ${l.pool} tokens, more than the 10,000-entry token cache, cycled in order: the LRU always evicts the token that comes next, so every request is a cache miss and the cache stays full), ${l.requests} requests at ${fmt(l.rps, 0)} req/s, non-2xx ${l.non2xx}.`, '');
      md.push('| sample | RSS MB | heap used MB (after GC) | token cache entries |', '|---|---:|---:|---:|');
      for (const p of l.samples) md.push(`| ${p.label} | ${fmt(p.rss / 2 ** 20, 1)} | ${fmt(p.heapUsed / 2 ** 20, 1)} | ${p.tokenCache ?? '–'} |`);
      md.push('');
    }
    if (memory.floods?.length) {
      md.push('Floods against the core validator (in-process):', '');
      md.push('| flood | requests | outcome | cache sizes after | heap Δ MB (after GC) | JWKS fetches |', '|---|---:|---|---|---:|---:|');
      for (const f of memory.floods) md.push(`| ${f.name} | ${f.requests} | ${esc(f.outcome)} | ${esc(f.sizes)} | ${fmt(f.heapDelta / 2 ** 20, 1)} | ${f.jwksFetches ?? '–'} |`);
      md.push('');
    }
  }
  md.push('Reproduce: `npm run bench` (knobs: ROUNDS, DUR, CONN, CASES, REDIS=1, STUB=1, PLAIN=1, PEER_PUBLIC=1, VARIANT_DIST=<compiled tree>, MEM_DUR, PROFILE=<case>; see bench/run.mjs).', '');
  const markdown = md.join('\n');
  writeFileSync(join(dir, 'latest.md'), markdown);
  writeFileSync(join(dir, 'latest.svg'), chart(s, micro, meta));
  return { markdown, summary: s };
}

function chart(s, micro, meta) {
  const bars = [];
  const add = (group, label, value, goal) => Number.isFinite(value) && bars.push({ group, label, value, goal });
  const h = (id) => s[id];
  if (h('ours-bearer')) { add('HTTP', 'ours Bearer same token / (a)', h('ours-bearer').vsBase, 0.9); add('HTTP', 'ours Bearer same token / peer', h('ours-bearer').vsPeer, 1.8); }
  if (h('ours-bearer-unique')) { add('HTTP', 'ours Bearer unique token / (a)', h('ours-bearer-unique').vsBase); add('HTTP', 'ours Bearer unique token / peer', h('ours-bearer-unique').vsPeer, 1.3); }
  if (h('ours-dpop')) { add('HTTP', 'ours DPoP unique proof / (a)', h('ours-dpop').vsBase); add('HTTP', 'ours DPoP unique proof / peer', h('ours-dpop').vsPeer, 1.5); }
  if (h('ours-dpop-redis')) add('HTTP', 'ours DPoP (Redis replay) / peer', h('ours-dpop-redis').vsPeer);
  if (h('plain-bearer')) add('HTTP', 'plain app: ours Bearer / peer', h('plain-bearer').vsPeer);
  if (h('peer-bearer')) add('HTTP', 'peer Bearer same token / (a)', h('peer-bearer').vsBase);
  if (h('peer-bearer-unique')) add('HTTP', 'peer Bearer unique token / (a)', h('peer-bearer-unique').vsBase);
  if (h('peer-dpop')) add('HTTP', 'peer DPoP / (a)', h('peer-dpop').vsBase);
  for (const [name, label, goal] of [
    ['core verifyAccessToken, cache off (miss)', 'core Bearer miss (seq) / floor', 0.5],
    ['core verifyAccessToken, cache off, c32', 'core Bearer miss (c32) / floor'],
    ['jose jwtVerify(KeyObject) RS256', 'jose jwtVerify (seq) / floor'],
    ['fast-verify compactVerifySync RS256', 'fast-verify RS256 / floor'],
    ['projection: decode + checkClaims + fast-verify (sync miss)', 'projected Bearer miss (sync) / floor'],
    ['core verifyAccessToken, cache on (hit)', 'core Bearer hit / floor'],
    ['core verifyRequest DPoP, unique proofs, memory replay', 'core DPoP request / ES256 floor'],
    ['core verifyProof (same proof)', 'core verifyProof / ES256 floor'],
  ]) {
    const r = microRow(micro, name);
    if (r) add('micro', label, r.vsFloor, goal);
  }
  const MAX = 3;
  const W = 860, left = 250, right = 70, rowH = 24, top = 56;
  const plotW = W - left - right;
  const x = (v) => left + (Math.min(v, MAX) / MAX) * plotW;
  let y = top;
  const out = [];
  let lastGroup;
  for (const b of bars) {
    if (b.group !== lastGroup) {
      y += lastGroup ? 14 : 0;
      out.push(`<text x="8" y="${y + 14}" font-weight="bold">${b.group === 'HTTP' ? 'HTTP req/s ratios' : 'micro ops/s vs node:crypto floor'}</text>`);
      y += rowH;
      lastGroup = b.group;
    }
    const met = b.goal === undefined ? undefined : b.value >= b.goal;
    const fill = met === undefined ? '#8aa4c8' : met ? '#4c9a52' : '#c8553d';
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${rowH - 8}" fill="${fill}"/>`);
    out.push(`<text x="${(Math.max(x(b.value), b.goal === undefined ? 0 : x(b.goal)) + 5).toFixed(1)}" y="${y + 15}">${b.value.toFixed(2)}×${b.value > MAX ? ' →' : ''}</text>`);
    if (b.goal !== undefined) out.push(`<line x1="${x(b.goal).toFixed(1)}" x2="${x(b.goal).toFixed(1)}" y1="${y + 1}" y2="${y + rowH - 3}" stroke="#222" stroke-width="2" stroke-dasharray="3,2"/>`);
    y += rowH;
  }
  const H = y + 36;
  const grid = [];
  for (let v = 0; v <= MAX; v += 0.5) {
    grid.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top - 6}" y2="${y}" stroke="${v === 1 ? '#555' : '#ddd'}"/>`);
    grid.push(`<text x="${x(v)}" y="${y + 16}" text-anchor="middle" fill="#555">${v}×</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="bold">auth0-tsoa-api: authentication overhead (ratios, higher is better)</text>`,
    `<text x="8" y="38" fill="#555">${esc(`${meta.date.slice(0, 10)} · node ${meta.node} · ${meta.rounds}×${meta.duration} s rounds, c=${meta.connections} · green/red: target (dashed) met/missed · bars clipped at ${MAX}×`)}</text>`,
    ...grid,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
