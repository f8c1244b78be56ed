/**
 * Every error as the JSON error shape (src/core/http/error-reply.ts): errorReply for an AuthError (its own answer,
 * or the defaults), a SetupError and any other error (a 4xx it carries is kept, everything else is a 500 that hides
 * its message and is marked for logging), and jsonClientErrors on a real node:http server: Node's own 400/408/431
 * answers get the JSON body too, once per server; a client error on a socket whose response is in flight closes it
 * without writing a second answer into the stream.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { errorReply, jsonClientErrors, NOT_FOUND_BODY, onlyJsonClientErrors } from '../../../src/core/http/error-reply.js';
import { responseOf } from '../../../src/core/http/error-response.js';
import { AuthError, SetupError } from '../../../src/core/errors.js';
import { createValidator } from '../../../src/core/index.js';

describe('errorReply', () => {
  it('an AuthError: its response (status, challenge, body), not marked unexpected', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'The access token expired', { scheme: 'bearer' });
    const reply = errorReply(error);
    expect(reply).toEqual({ ...responseOf(error), unexpected: false });
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ error: 'invalid_token', error_description: 'The access token expired' });
    expect(reply.headers['WWW-Authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('an AuthError answered by a validator keeps that answer (its resource_metadata)', () => {
    const validator = createValidator({ domain: 'tenant.example.com', audience: 'https://api.example.com' });
    const answered = validator.rejected(new AuthError('invalid_token', 'token.expired', 'The access token expired', { scheme: 'bearer' }), 'https://api.example.com/api/private');
    const reply = errorReply(answered);
    expect(reply.headers).toEqual(answered.response!.headers);
    expect({ status: reply.status, body: reply.body }).toEqual({ status: answered.response!.status, body: answered.response!.body });
    expect(reply.headers['WWW-Authenticate']).toContain('resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"');
    // The defaults (an AuthError nobody answered) have no request to name the metadata for.
    expect(errorReply(new AuthError('invalid_token', 'token.expired', 'The access token expired', { scheme: 'bearer' })).headers['WWW-Authenticate']).not.toContain('resource_metadata');
  });

  it('a 503 AuthError is decided, not unexpected: it keeps its Retry-After', () => {
    const reply = errorReply(new AuthError('temporarily_unavailable', 'provider.unavailable', 'The authorization server is unavailable; try again later', { retryAfter: 7 }));
    expect([reply.status, reply.unexpected, reply.headers['Retry-After']]).toEqual([503, false, '7']);
  });

  it('a SetupError is a 500 that hides its message, marked unexpected', () => {
    const reply = errorReply(new SetupError('getOptionalAuth: this route has no authentication'));
    expect(reply).toEqual({ status: 500, headers: {}, body: { error: 'server_error', error_description: 'Internal server error' }, unexpected: true });
  });

  it('any other error is a 500 that hides its message; so is a thrown non-error and an out-of-range status', () => {
    for (const error of [new Error('connection to db-7.internal refused'), 'a string', null, undefined, Object.assign(new Error('x'), { status: 302 }), Object.assign(new Error('x'), { status: 600 })]) {
      const reply = errorReply(error);
      expect(reply, String(error)).toEqual({ status: 500, headers: {}, body: { error: 'server_error', error_description: 'Internal server error' }, unexpected: true });
      expect(JSON.stringify(reply)).not.toContain('db-7');
    }
  });

  it('a 5xx an error carries is kept, hiding its message and its headers', () => {
    const reply = errorReply(Object.assign(new Error('upstream secret'), { status: 502, headers: { 'Retry-After': '3' } }));
    expect(reply).toEqual({ status: 502, headers: {}, body: { error: 'server_error', error_description: 'Internal server error' }, unexpected: true });
  });

  it('a 4xx an error carries (status or statusCode) is kept with its fixed body, not its message, and not unexpected', () => {
    expect(errorReply(Object.assign(new Error('request entity too large: 2000000 > 100000'), { status: 413 }))).toEqual({
      status: 413,
      headers: {},
      body: { error: 'payload_too_large', error_description: 'The request body is too large' },
      unexpected: false,
    });
    expect(errorReply({ statusCode: 400, message: 'Unexpected token } in JSON at position 7' })).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'The request is malformed' }, unexpected: false });
  });

  it('a 4xx keeps only the headers a client error may send (WWW-Authenticate, Retry-After, DPoP-Nonce, Allow)', () => {
    const reply = errorReply(Object.assign(new Error('x'), { status: 405, headers: { Allow: 'GET, HEAD', 'Set-Cookie': 'a=b', 'Retry-After': '2', 'X-Debug': 'internal' } }));
    expect(reply.headers).toEqual({ Allow: 'GET, HEAD', 'Retry-After': '2' });
  });

  it("tsoa's ValidateError: 400 with the failing fields' names and messages, never the values", () => {
    const reply = errorReply(Object.assign(new Error('validation'), { status: 400, fields: { 'body.name': { message: 'invalid string value', value: 'secret-value' } } }));
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'invalid_request', error_description: 'The request failed validation: body.name', fields: { 'body.name': { message: 'invalid string value' } } });
    expect(JSON.stringify(reply)).not.toContain('secret-value');
  });

  it('NOT_FOUND_BODY is the 404 body', () => {
    expect(NOT_FOUND_BODY).toEqual({ error: 'not_found', error_description: 'Not found' });
    expect(Object.isFrozen(NOT_FOUND_BODY)).toBe(true);
  });
});

describe('jsonClientErrors', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });
  async function listen(made: Server): Promise<number> {
    server = made;
    await new Promise<void>((resolve) => made.listen(0, '127.0.0.1', resolve));
    return (made.address() as AddressInfo).port;
  }
  /** Sends raw bytes and reads the whole answer (the server closes the connection). */
  function raw(port: number, data: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      socket.write(data);
    });
  }
  const parse = (answer: string) => {
    const [head, body] = answer.split('\r\n\r\n') as [string, string];
    return { statusLine: head.split('\r\n')[0], head, body: body === '' ? undefined : (JSON.parse(body) as unknown) };
  };

  it("a malformed request: 400 with the JSON body, not Node's empty one", async () => {
    const plain = await listen(createServer((_req, res) => res.end('ok')));
    expect(parse(await raw(plain, 'GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n')).body).toBeUndefined(); // Node's own answer
    server!.close();
    const port = await listen(createServer((_req, res) => res.end('ok')));
    jsonClientErrors(server!);
    const answer = parse(await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n'));
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.head).toContain('Content-Type: application/json; charset=utf-8');
    expect(answer.body).toEqual({ error: 'invalid_request', error_description: 'The request is malformed' });
  });

  it('oversized headers: 431 with the JSON body', async () => {
    const port = await listen(createServer({ maxHeaderSize: 1024 }, (_req, res) => res.end('ok')));
    jsonClientErrors(server!);
    const answer = parse(await raw(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(4096)}\r\n\r\n`));
    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.body).toEqual({ error: 'request_header_fields_too_large', error_description: 'The request headers are too large' });
  });

  it('headers that never finish within requestTimeout: 408 with the JSON body', async () => {
    const port = await listen(createServer({ requestTimeout: 200, headersTimeout: 200, connectionsCheckingInterval: 50 }, (_req, res) => res.end('ok')));
    jsonClientErrors(server!);
    const answer = parse(await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n'));
    expect(answer.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(answer.body).toEqual({ error: 'request_timeout', error_description: 'The request took too long' });
  });

  it('once per server, however many times it is asked: one listener, one whole JSON 400', async () => {
    const port = await listen(createServer((_req, res) => res.end('ok')));
    expect(server!.listenerCount('clientError')).toBe(0);
    jsonClientErrors(server!);
    jsonClientErrors(server!);
    jsonClientErrors(server!);
    expect(server!.listenerCount('clientError')).toBe(1);
    const answer = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n');
    // Exactly one response, whole: one status line, a body as long as its Content-Length, nothing after it.
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    const { statusLine, head, body } = parse(answer);
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    const text = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(Number(/\r\nContent-Length: (\d+)\r\n/.exec(head)?.[1])).toBe(Buffer.byteLength(text, 'latin1'));
    expect(body).toEqual({ error: 'invalid_request', error_description: 'The request is malformed' });
  });

  it("onlyJsonClientErrors: a framework's own listener goes, the JSON one stays — also when the app added it first", async () => {
    const port = await listen(createServer((_req, res) => res.end('ok')));
    const frameworks = (_error: Error, socket: Duplex) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    jsonClientErrors(server!); // the application, first
    server!.on('clientError', frameworks); // then the framework's empty 400
    onlyJsonClientErrors(server!);
    onlyJsonClientErrors(server!);
    expect(server!.listenerCount('clientError')).toBe(1);
    expect(server!.listeners('clientError')).not.toContain(frameworks);
    const answer = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n');
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(parse(answer).body).toEqual({ error: 'invalid_request', error_description: 'The request is malformed' });
  });

  describe('a client error on a socket that already has a response in flight (keep-alive, bytes after a valid request)', () => {
    /**
     * Sends a valid request, waits until `ready` says the server has reached the point under test, then sends
     * malformed bytes on the same socket; resolves with everything the socket received once it closes.
     */
    function afterValidRequest(port: number, ready: (received: string) => boolean): Promise<string> {
      return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let answer = '';
        let sent = false;
        socket.setEncoding('latin1');
        socket.on('error', () => undefined); // a destroyed socket may reset the connection
        socket.on('close', () => resolve(answer));
        const maybeSend = () => {
          if (sent || !ready(answer)) return;
          sent = true;
          socket.write('GET /next HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n');
        };
        socket.on('data', (chunk: string) => {
          answer += chunk;
          maybeSend();
        });
        socket.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n', () => setTimeout(maybeSend, 50));
      });
    }
    /** Records what each client error arrived with, without touching the socket (runs before jsonClientErrors). */
    function observe(made: Server): Array<{ code: string | undefined; inFlight: boolean }> {
      const seen: Array<{ code: string | undefined; inFlight: boolean }> = [];
      made.prependListener('clientError', (error: NodeJS.ErrnoException, socket) => seen.push({ code: error.code, inFlight: Boolean((socket as { _httpMessage?: unknown })._httpMessage) }));
      return seen;
    }

    it('the response has started (headers and part of the body sent): the socket is destroyed, no JSON 400 is written into it', async () => {
      const port = await listen(
        createServer((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.write('partial'); // under way, never finished
        }),
      );
      jsonClientErrors(server!);
      const seen = observe(server!);
      const answer = await afterValidRequest(port, (received) => received.includes('partial'));
      expect(seen).toEqual([{ code: 'HPE_INVALID_HEADER_TOKEN', inFlight: true }]);
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(answer).toContain('partial');
      expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(answer).not.toContain('invalid_request');
      expect(answer).not.toContain('application/json');
    });

    it('the response has not started (a slow handler): destroyed too; the valid request is not answered with the 400 meant for the bytes after it', async () => {
      const port = await listen(createServer(() => undefined)); // never answers
      jsonClientErrors(server!);
      const seen = observe(server!);
      const answer = await afterValidRequest(port, () => true);
      expect(seen).toEqual([{ code: 'HPE_INVALID_HEADER_TOKEN', inFlight: true }]);
      expect(answer).toBe('');
    });
  });
});
