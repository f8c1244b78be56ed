// Turns the benchmark results into bench/results/latest.md (tables, targets with PASS/FAIL) and latest.svg (a
// hand-written bar chart, no dependencies).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const median = (a) => {
  const v = a.filter(Number.isFinite).sort((x, y) => x - y);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const mb = (bytes) => fmt(bytes / 2 ** 20, 0);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Per case: medians over rounds of server CPU per request, req/s and latency; authentication's own CPU (this case
 * minus the same app's unauthenticated route, paired by round, median), the same minus the no-op authenticator's,
 * and ratios to the peer (of medians) and to the floor.
 */
export function summarize(cases, results, floorRuns, throughput = {}) {
  const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
  const floors = { rs256: median(floorRuns.map((f) => f.rs256)), es256: median(floorRuns.map((f) => f.es256)) };
  const runs = (id) => results[id] ?? [];
  const perRound = (id) => new Map(runs(id).map((r) => [r.round, r]));
  // Authentication CPU per round: this case's CPU per request minus its base's, same round.
  const authRounds = (id) => {
    const c = byId[id];
    if (!c?.base) return new Map();
    const base = perRound(c.base);
    return new Map(
      runs(id)
        .filter((r) => base.has(r.round))
        .map((r) => [r.round, r.cpuPerReq - base.get(r.round).cpuPerReq]),
    );
  };
  const rows = {};
  for (const c of cases) {
    const rs = runs(c.id);
    // Throughput from the closed-loop slices when CPU was measured at a fixed rate (RATE), else from the same slices.
    const ts = throughput[c.id]?.length ? throughput[c.id] : rs;
    const auth = authRounds(c.id);
    const noop = c.noop ? authRounds(c.noop) : new Map();
    const row = {
      ...c,
      rounds: rs.length,
      cpu: median(rs.map((r) => r.cpuPerReq)),
      cpuMin: Math.min(...rs.map((r) => r.cpuPerReq)),
      cpuMax: Math.max(...rs.map((r) => r.cpuPerReq)),
      procCpu: median(rs.map((r) => r.procCpuPerReq)),
      clientCpu: median(ts.map((r) => r.clientCpuPerReq)),
      cpuRps: median(rs.map((r) => r.rps)),
      belowRate: rs.filter((r) => r.belowRate).length,
      closedCpu: ts === rs ? NaN : median(ts.map((r) => r.cpuPerReq)),
      preempted: median(rs.map((r) => r.preemptedPer1k)),
      otherCores: median(rs.map((r) => r.otherCores)),
      rps: median(ts.map((r) => r.rps)),
      p50: median(ts.map((r) => r.p50)),
      p99: median(ts.map((r) => r.p99)),
      auth: median([...auth.values()]),
      authRuns: [...auth.values()],
      beyondNoop: median([...auth].filter(([round]) => noop.has(round)).map(([round, v]) => v - noop.get(round))),
      bad: [...rs, ...(ts === rs ? [] : ts)].reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      wrapped: [...rs, ...ts].some((r) => r.wrapped),
      samples: ts.map((r) => Math.round(r.rps)),
      floorUs: c.floor ? floors[c.floor] : NaN,
    };
    rows[c.id] = row;
  }
  for (const row of Object.values(rows)) {
    const peer = row.peer ? rows[row.peer] : undefined;
    const base = row.base ? rows[row.base] : undefined;
    const ref = row.ref ? rows[row.ref] : undefined;
    row.authVsPeer = peer && peer.auth > 0 ? row.auth / peer.auth : NaN;
    row.authVsFloor = row.auth / row.floorUs;
    row.rpsVsBase = base ? row.rps / base.rps : NaN;
    row.rpsVsPeer = peer ? row.rps / peer.rps : NaN;
    row.cpuVsRef = ref ? row.cpu - ref.cpu : NaN;
  }
  return { rows, floors };
}

/** The benchmark's targets (docs/performance.md), each with the measured value, the goal and PASS/FAIL (undefined: not measured). */
export function evaluate({ rows, floors }, memory, memPeer = 'peer') {
  const t = [];
  const le = (what, value, goal, shown) => t.push({ what, value, goal: `≤ ${goal}`, shown, pass: Number.isFinite(value) ? value <= goal : undefined });
  const ge = (what, value, goal, shown) => t.push({ what, value, goal: `≥ ${goal}`, shown, pass: Number.isFinite(value) ? value >= goal : undefined });
  const b = rows['ours-bearer'];
  const u = rows['ours-bearer-unique'];
  const d = rows['ours-dpop'];
  const x = (v) => `${fmt(v)}×`;
  const us = (v) => `${fmt(v, 1)} µs`;
  if (b) {
    le("Bearer reused token: auth CPU vs the peer's", b.authVsPeer, 0.2, `${x(b.authVsPeer)} (${us(b.auth)} vs ${us(rows[b.peer]?.auth)})`);
    le('Bearer reused token: auth CPU beyond the no-op authenticator', b.beyondNoop, 5, us(b.beyondNoop));
  }
  if (u) {
    le("Bearer new token per request: auth CPU vs the peer's", u.authVsPeer, 0.6, `${x(u.authVsPeer)} (${us(u.auth)} vs ${us(rows[u.peer]?.auth)})`);
    le('Bearer new token per request: auth CPU vs the RS256 floor', u.authVsFloor, 3, `${x(u.authVsFloor)} (floor ${us(floors.rs256)})`);
  }
  if (d) {
    le("DPoP new proof per request: auth CPU vs the peer's", d.authVsPeer, 0.4, `${x(d.authVsPeer)} (${us(d.auth)} vs ${us(rows[d.peer]?.auth)})`);
    le('DPoP new proof per request: auth CPU vs the ES256 floor', d.authVsFloor, 3, `${x(d.authVsFloor)} (floor ${us(floors.es256)})`);
  }
  const ours = memory?.find((m) => m.id === 'ours');
  const peer = memory?.find((m) => m.id === memPeer);
  if (ours && peer) {
    const [o0, o1, o2] = ours.samples.map((s) => s.rss);
    const [p0, p1] = peer.samples.map((s) => s.rss);
    const whose = memPeer === 'peer' ? "the peer's" : `${memPeer}'s`;
    le(`Resident memory after the run vs ${whose}`, o1 / p1, 1.3, `${x(o1 / p1)} (${mb(o1)} MB vs ${mb(p1)} MB)`);
    le(`Resident memory at start-up vs ${whose}`, o0 / p0, 1.3, `${x(o0 / p0)} (${mb(o0)} MB vs ${mb(p0)} MB)`);
    le('Resident memory flat over a second run (after run 2 / after run 1)', o2 / o1, 1.05, `${x(o2 / o1)} (${mb(o1)} → ${mb(o2)} MB)`);
  }
  if (b) ge('Throughput: Bearer reused token vs the unauthenticated route', b.rpsVsBase, 0.9, x(b.rpsVsBase));
  if (d) ge("Throughput: DPoP new proof per request vs the peer's", d.rpsVsPeer, 1.5, x(d.rpsVsPeer));
  return t;
}

/** Writes `${name}.md` and `${name}.svg` into `dir`; returns the Markdown, the summary and the targets. */
export function writeReport({ dir, name = 'latest', meta, cases, results, throughput, floors: floorRuns, memory, micro, floods }) {
  const s = summarize(cases, results, floorRuns, throughput);
  const { rows, floors } = s;
  const targets = evaluate(s, memory, meta.memPeer);
  const md = [];
  md.push('# Authentication cost per request — latest `npm run bench`', '');
  if (meta.quick) md.push('> **BENCH_QUICK smoke run**: one short round per case, short memory runs. The figures are noisy and only show that the harness works; read the full run.', '');
  const busyAtStart = Number(String(meta.loadavgStart ?? '').split(' ')[0]);
  if (busyAtStart > meta.cores / 2)
    md.push(
      `> **The machine was busy**: load average ${busyAtStart} at the start on ${meta.cores} cores. Other work inflates CPU per request (see "other cores" and "preempted" below); repeat on an idle machine before reading the figures.`,
      '',
    );
  md.push(`- command: \`${meta.command}\`; date: ${meta.date}; total run ${meta.elapsed} s`);
  md.push(`- machine: ${meta.cpus}; node ${meta.node}, OpenSSL ${meta.openssl}; load average at the start ${meta.loadavgStart}, at the end ${meta.loadavg}`);
  md.push(
    `- load: ${meta.client}, ${meta.connections} connections on 127.0.0.1; ${meta.rounds} round(s); per round a fresh server process per case, all alive at once (${meta.pinning}), ${meta.warmup} s warm-up each, then ${meta.cycles} cycles in which every case gets a ${meta.slice} s slice (order rotated each cycle); a case is compared with its base, no-op and peer of the same cycle; medians over (round, cycle); peer: express-oauth2-jwt-bearer ${meta.eojb} in the same demo app (createApp, same tsoa routes)`,
  );
  md.push(
    '- server CPU per request = user + system CPU time of the server process over all its threads (event loop, libuv thread pool, GC) during the window, from `process.cpuUsage()` in the server, divided by the requests completed; cross-checked against `/proc/<pid>/stat` (column "proc"). Authentication\'s CPU = the case minus the same app\'s unauthenticated route (same round); "beyond no-op" also subtracts what a no-op authenticator costs in the same tsoa app (tsoa\'s own `@Security` path).',
  );
  md.push(
    meta.rate > 0
      ? `- CPU is measured with every case at the same fixed rate, **${meta.rate} req/s** (open loop: autocannon, ${meta.rateConnections} connections), so that a case and its base are compared at the same load: closed-loop, a slower case also runs at a lower request rate, and the server's cost per request depends on its load. Each cycle also gives every case a closed-loop slice (as fast as it answers) for the throughput table; their CPU per request is shown as "closed-loop µs/req".`
      : '- CPU is measured in the same closed-loop slices as the throughput (RATE=0).',
    '',
  );

  md.push('## Targets', '', '| target | measured | goal | result |', '|---|---:|---:|:---:|');
  for (const t of targets) md.push(`| ${t.what} | ${t.shown} | ${t.goal} | ${t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : '**FAIL**'} |`);
  md.push('');

  md.push('## Server CPU per request', '');
  md.push(`Floors (sync \`crypto.verify\`, CPU per call, median of ${floorRuns.length} round(s) in this run): RS256 (RSA-2048) **${fmt(floors.rs256, 1)} µs**, ES256 (P-256) **${fmt(floors.es256, 1)} µs**.`, '');
  md.push(
    '"other cores": CPU that everything except the server and the load generator used during the window (0 on an idle machine); "preempted": the server\'s involuntary context switches per 1,000 requests. Both high means the figures of that row are inflated by other work.',
    '',
  );
  md.push("| case | server CPU µs/req (range) | proc µs/req | authentication µs (− same app's /api/public) | beyond no-op µs | auth vs peer | auth vs floor | req/s | closed-loop µs/req | other cores | preempted /1k req |");
  md.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const r = rows[c.id];
    const range = r.rounds > 1 ? ` (${fmt(r.cpuMin, 0)}–${fmt(r.cpuMax, 0)})` : '';
    md.push(
      `| ${r.label}${r.wrapped ? ' ⚠ pool wrapped' : ''} | ${fmt(r.cpu, 1)}${range} | ${fmt(r.procCpu, 0)} | ${r.base ? fmt(r.auth, 1) : '–'} | ${r.noop ? fmt(r.beyondNoop, 1) : '–'} | ${r.peer ? `${fmt(r.authVsPeer)}×` : '–'} | ${r.floor ? `${fmt(r.authVsFloor)}× ${r.floor.toUpperCase()}` : '–'} | ${fmt(r.cpuRps, 0)}${r.belowRate ? ` ⚠ ${r.belowRate} slice(s) below the rate` : ''} | ${fmt(r.closedCpu, 1)} | ${fmt(r.otherCores)} | ${fmt(r.preempted, 0)} |`,
    );
  }
  const refs = cases.filter((c) => c.ref);
  if (refs.length) {
    md.push('', 'Differences to a reference case (server CPU per request, medians):', '');
    for (const c of refs) md.push(`- ${rows[c.id].label} − ${rows[c.ref].label}: ${fmt(rows[c.id].cpuVsRef, 1)} µs`);
  }
  md.push('');

  md.push('## Throughput', '');
  md.push('Requests per second swing between identical runs on this 2-core machine (the load generator shares the cores); read them as a secondary measure.', '');
  md.push("| case | req/s | p50 ms | p99 ms | vs same app's /api/public | vs peer | non-2xx/errors | client CPU µs/req | runs (req/s) |");
  md.push('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const c of cases) {
    const r = rows[c.id];
    md.push(`| ${r.label} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.base ? fmt(r.rpsVsBase) : '–'} | ${r.peer ? fmt(r.rpsVsPeer) : '–'} | ${r.bad} | ${fmt(r.clientCpu, 0)} | ${r.samples.join(', ')} |`);
  }
  md.push('');

  if (memory?.length) {
    md.push('## Memory', '');
    md.push(
      `Each server fresh; a run = ${memory[0].samples.length > 1 ? memory[0].seconds : '?'} s of load: a third each of Bearer with one reused token, Bearer with a new token per request, and DPoP with a new proof per request; then a second run of the same length. RSS as the OS reports it (no forced GC); heap after a forced GC at the end. The memory targets compare with \`${meta.memPeer ?? 'peer'}\` (MEM_PEER). The peer's demo app is built by the demo's createApp, which also loads this library's Express adapter, tsoa's routes and Swagger UI; \`PLAIN=1\` adds the peer in a plain Express app.`,
      '',
    );
    md.push('| server | RSS at start MB | after run 1 MB | after run 2 MB | run 2 / run 1 | heap after GC MB | requests | non-2xx/errors |', '|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const m of memory) {
      const [a, b, c] = m.samples;
      md.push(`| ${m.label} | ${mb(a?.rss)} | ${mb(b?.rss)} | ${mb(c?.rss)} | ${fmt(c?.rss / b?.rss)} | ${fmt(m.heapAfterGc / 2 ** 20, 1)} | ${c?.requests ?? '–'} | ${m.bad} |`);
    }
    md.push('');
  }

  if (micro) {
    md.push(`## Micro-benchmark (core, in-process; ${micro.rounds} rounds × ${micro.ms} ms, median)`, '');
    md.push('| group | case | mode | ops/s | µs/op | vs floor |', '|---|---|---|---:|---:|---:|');
    for (const r of micro.rows) md.push(`| ${r.group} | ${r.name} | ${r.mode} | ${r.median} | ${fmt(r.usPerOp, 1)} | ${fmt(r.vsFloor)} |`);
    md.push('');
  }
  if (floods?.length) {
    md.push('## Floods against the core validator (in-process)', '');
    md.push('| flood | requests | outcome | cache sizes after | heap Δ MB (after GC) | JWKS fetches |', '|---|---:|---|---|---:|---:|');
    for (const f of floods) md.push(`| ${f.name} | ${f.requests} | ${esc(f.outcome)} | ${esc(f.sizes)} | ${fmt(f.heapDelta / 2 ** 20, 1)} | ${f.jwksFetches ?? '–'} |`);
    md.push('');
  }
  md.push(`![chart](${name}.svg)`, '');
  md.push(
    `Reproduce: \`${meta.command}\` (knobs: BENCH_QUICK=1, ROUNDS, DUR, WARM, CONN, BENCH_CLIENT, MEM_DUR, CASES, REDIS=1, CREATEAPP=1, PLAIN=1, VARIANT_DIST=<compiled tree>, PROFILE=<case>, MICRO=1, FLOODS=1; see bench/run.mjs).`,
    '',
  );
  const markdown = md.join('\n');
  writeFileSync(join(dir, `${name}.md`), markdown);
  writeFileSync(join(dir, `${name}.svg`), chart(s, memory, meta));
  return { markdown, summary: s, targets };
}

/** Two panels: authentication CPU per request (ours, peer, floor, no-op) and resident memory (ours, peer). */
function chart({ rows, floors }, memory, meta) {
  const W = 860;
  const left = 230;
  const right = 90;
  const barH = 16;
  const plotW = W - left - right;
  const out = [];
  let y = 56;
  const panel = (title, groups, unit, max) => {
    out.push(`<text x="8" y="${y + 14}" font-weight="bold">${esc(title)}</text>`);
    y += 24;
    const top = y;
    const gridAt = out.length; // grid lines go under the bars
    const x = (v) => left + (Math.max(0, Math.min(v, max)) / max) * plotW;
    for (const g of groups) {
      out.push(`<text x="8" y="${y + 12}" fill="#333">${esc(g.name)}</text>`);
      y += 16;
      for (const b of g.bars) {
        if (!Number.isFinite(b.value)) continue;
        out.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>`);
        out.push(`<rect x="${left}" y="${y + 1}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${barH - 3}" fill="${b.color}"/>`);
        const labelX = Math.max(x(b.value), Number.isFinite(b.target) ? x(b.target) : 0) + 5;
        out.push(`<text x="${labelX.toFixed(1)}" y="${y + 12}">${fmt(b.value, b.digits ?? 0)} ${unit}${b.value > max ? ' →' : ''}${Number.isFinite(b.target) ? ` (target ≤ ${fmt(b.target, 0)})` : ''}</text>`);
        if (Number.isFinite(b.target)) out.push(`<line x1="${x(b.target).toFixed(1)}" x2="${x(b.target).toFixed(1)}" y1="${y - 1}" y2="${y + barH}" stroke="#111" stroke-width="2" stroke-dasharray="3,2"/>`);
        y += barH;
      }
      y += 6;
    }
    const step = niceStep(max);
    const grid = [];
    for (let v = 0; v <= max + 1e-9; v += step) {
      grid.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${top}" y2="${y}" stroke="#e3e3e3"/>`);
      grid.push(`<text x="${x(v).toFixed(1)}" y="${y + 14}" text-anchor="middle" fill="#666">${+v.toFixed(6)}</text>`);
    }
    out.splice(gridAt, 0, ...grid);
    y += 30;
  };
  const OURS = '#2f6db5';
  const PEER = '#c8553d';
  const FLOOR = '#7a7a7a';
  const NOOP = '#b9a23a';
  const groups = [];
  // target: the largest auth CPU that meets the issue's targets for that case (dashed line on our bar)
  const group = (name, oursId, floorKey, peerRatio) => {
    const o = rows[oursId];
    if (!o) return;
    const peerAuth = rows[o.peer]?.auth;
    const limits = [peerAuth > 0 ? peerRatio * peerAuth : NaN, floorKey ? 3 * floors[floorKey] : rows[o.noop]?.auth + 5].filter(Number.isFinite);
    const bars = [
      { label: 'ours', value: o.auth, color: OURS, target: limits.length ? Math.min(...limits) : NaN },
      { label: 'express-oauth2-jwt-bearer', value: rows[o.peer]?.auth, color: PEER },
    ];
    if (floorKey) bars.push({ label: `floor: one ${floorKey.toUpperCase()} verify`, value: floors[floorKey], color: FLOOR });
    else bars.push({ label: 'no-op authenticator (tsoa)', value: rows[o.noop]?.auth, color: NOOP });
    groups.push({ name, bars });
  };
  group('Bearer, one reused token', 'ours-bearer', undefined, 0.2);
  group('Bearer, a new token per request', 'ours-bearer-unique', 'rs256', 0.6);
  group('DPoP, a new proof per request (token reused)', 'ours-dpop', 'es256', 0.4);
  const cpuMax = Math.max(50, ...groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.target])).filter(Number.isFinite));
  if (groups.length) panel("Authentication CPU per request, µs (server CPU − same app's unauthenticated route; lower is better)", groups, 'µs', niceMax(cpuMax));
  if (memory?.length) {
    const mem = memory.map((m) => ({
      name: m.label,
      bars: m.samples.map((s, i) => ({ label: ['at start', 'after run 1', 'after run 2'][i] ?? s.label, value: s.rss / 2 ** 20, color: m.id === 'ours' ? OURS : PEER })),
    }));
    const memMax = Math.max(...mem.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite));
    panel('Resident memory, MB (lower is better)', mem, 'MB', niceMax(memMax));
  }
  const H = y + 4;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="bold">auth0-tsoa-api: what authentication costs the server, per request</text>`,
    `<text x="8" y="38" fill="#555">${esc(`${meta.date.slice(0, 10)} · node ${meta.node} · ${meta.rounds} round(s) × ${meta.cycles} × ${meta.slice} s, c=${meta.connections}, ${meta.client.split(' (')[0]}${meta.quick ? ' · BENCH_QUICK smoke run: noisy' : ''}`)}</text>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

function niceMax(v) {
  const step = niceStep(v * 1.1);
  return Math.ceil((v * 1.1) / step) * step;
}

function niceStep(max) {
  const raw = max / 6;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}
