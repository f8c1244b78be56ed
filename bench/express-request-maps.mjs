// Why the Express adapter reads each request property once and keeps its memo in `res.locals` (src/express/):
// Express gives every request object a V8 map of its own, so no property access on a request is ever cached.
//
//   node --allow-natives-syntax bench/express-request-maps.mjs
//
// 1. Two requests in flight at once, compared at the same point (their handler): on plain node:http they share a
//    map; through Express they never do.
// 2. What adding one property costs there: to the request (a map transition in the runtime, every time), to
//    `res.locals` (a dictionary object), or to a WeakMap keyed by the request. Wall time around the store, medians.
import http from 'node:http';
import express from 'express';
import autocannon from 'autocannon';

const MEMO = Symbol('memo');
const memos = new WeakMap();

async function pairs(useExpress) {
  let pending = [];
  let same = 0;
  let total = 0;
  const handler = (req, res) => {
    pending.push([req, res]);
    if (pending.length < 2) return;
    const [[a, ra], [b, rb]] = pending;
    pending = [];
    total++;
    if (%HaveSameMap(a, b)) same++;
    ra.end();
    rb.end();
  };
  const app = express();
  app.get('/x', handler);
  const server = http.createServer(useExpress ? app : handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  await autocannon({ url: `http://127.0.0.1:${server.address().port}/x`, connections: 2, amount: 2000 });
  server.close();
  return `${same} of ${total} pairs share a map`;
}

async function storeCost(where) {
  const times = [];
  const app = express();
  app.get('/x', (req, res) => {
    const t = process.hrtime.bigint();
    if (where === 'request') req[MEMO] = { n: 1 };
    else if (where === 'res.locals') res.locals[MEMO] = { n: 1 };
    else memos.set(req, { n: 1 });
    times.push(Number(process.hrtime.bigint() - t));
    res.end();
  });
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  await autocannon({ url: `http://127.0.0.1:${server.address().port}/x`, connections: 4, amount: 20000 });
  server.close();
  const steady = times.slice(5000).sort((x, y) => x - y);
  return `${steady[steady.length >> 1]} ns (median of ${steady.length})`;
}

console.log('node:http, same map:', await pairs(false));
console.log('Express,   same map:', await pairs(true));
for (const where of ['request', 'res.locals', 'WeakMap']) console.log(`adding a key to ${where}:`.padEnd(30), await storeCost(where));
