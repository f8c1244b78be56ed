/**
 * readBodyText (src/core/http/read-body.ts) against a real node:http server: the body as UTF-8 text up to the limit
 * (fixed length, chunked, empty), and past it a BodyTooLargeError (status 413, docs/decisions.md D13) as soon as the
 * limit is crossed, early enough that the server can still answer 413 on the same connection.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readBodyText } from '../../../src/core/http/read-body.js';

const LIMIT = 16;

/** What readBodyText settled with on the server: the text, or the error. */
interface Outcome {
  text?: string;
  error?: unknown;
}

let server: Server;
let port: number;
let last: Promise<Outcome>;

beforeAll(async () => {
  server = createServer((req, res) => {
    last = readBodyText(req, LIMIT).then(
      (text) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
        return { text };
      },
      (error: unknown) => {
        res.writeHead((error as { status?: number }).status ?? 500, { connection: 'close' }).end('too large');
        return { error };
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends `chunks` as the body (chunked unless `length` is given), and returns the server's answer and outcome. */
async function send(chunks: (string | Buffer)[], headers: Record<string, string | number> = {}): Promise<{ status: number; body: string; outcome: Outcome }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, resolve);
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) body += chunk;
  return { status: response.statusCode!, body, outcome: await last };
}

describe('readBodyText', () => {
  it('a body with Content-Length within the limit: its text', async () => {
    const { status, body, outcome } = await send(['access_token=x'], { 'content-length': 14 });
    expect(status).toBe(200);
    expect(outcome.text).toBe('access_token=x');
    expect(body).toBe('access_token=x');
  });

  it('exactly the limit is still read', async () => {
    const { status, outcome } = await send(['x'.repeat(LIMIT)], { 'content-length': LIMIT });
    expect(status).toBe(200);
    expect(outcome.text).toBe('x'.repeat(LIMIT));
  });

  it('a chunked body: every chunk, in order', async () => {
    const { status, outcome } = await send(['access_', 'token', '=abc']);
    expect(status).toBe(200);
    expect(outcome.text).toBe('access_token=abc');
  });

  it('UTF-8 split across chunks is decoded whole', async () => {
    const euro = Buffer.from('€', 'utf8'); // 3 bytes
    const { outcome } = await send([euro.subarray(0, 1), euro.subarray(1), Buffer.from('!')]);
    expect(outcome.text).toBe('€!');
  });

  it('an empty body: the empty string', async () => {
    const { status, outcome } = await send([], { 'content-length': 0 });
    expect(status).toBe(200);
    expect(outcome.text).toBe('');
  });

  it('one byte over the limit (Content-Length): BodyTooLargeError with status 413, and the 413 reaches the client', async () => {
    const { status, body, outcome } = await send(['x'.repeat(LIMIT + 1)], { 'content-length': LIMIT + 1 });
    expect(outcome.error).toBeInstanceOf(BodyTooLargeError);
    expect(outcome.error).toMatchObject({ name: 'BodyTooLargeError', status: 413, message: 'The request body is too large' });
    expect(status).toBe(413);
    expect(body).toBe('too large');
  });

  it('chunked past the limit: rejected once the total crosses it, though each chunk is small', async () => {
    const { status, outcome } = await send(['x'.repeat(10), 'y'.repeat(10)]);
    expect(outcome.error).toBeInstanceOf(BodyTooLargeError);
    expect(status).toBe(413);
  });

  it('rejects before the whole body arrived: the request is paused and no longer read', async () => {
    // The client sends the first chunk past the limit and keeps the request open: the reader must settle anyway.
    const outcome = await new Promise<Outcome>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (response) => {
        response.resume();
        last.then(resolve, reject);
        req.destroy();
      });
      req.on('error', () => {});
      req.write('z'.repeat(LIMIT + 4));
    });
    expect(outcome.error).toBeInstanceOf(BodyTooLargeError);
  }, 5_000);

  it('after the rejection the rest of the body is left unread: the request is paused and no longer listened to', async () => {
    const stream = new PassThrough();
    const reading = readBodyText(stream as unknown as IncomingMessage, LIMIT);
    stream.write('x'.repeat(LIMIT + 1));
    await expect(reading).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(stream.isPaused()).toBe(true);
    expect(stream.listenerCount('data')).toBe(0);
    stream.write('y'.repeat(1000));
    expect(stream.readableLength).toBe(1000); // buffered by the stream, not consumed
  });

  it('a request that errors mid-body rejects with that error', async () => {
    const stream = new PassThrough();
    const reading = readBodyText(stream as unknown as IncomingMessage, LIMIT);
    stream.write('abc');
    const failure = new Error('socket hang up');
    stream.emit('error', failure);
    await expect(reading).rejects.toBe(failure);
  });
});
