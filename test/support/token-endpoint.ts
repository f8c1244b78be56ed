/**
 * A real local token endpoint for token-exchange tests (RFC 8693): an HTTP server on 127.0.0.1 that records every
 * request (headers, form body) and answers as the test sets (a token, a refusal, a 5xx, a slow answer, a dropped
 * connection). Each issued token is unique, so a test can tell which exchange produced what.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface RecordedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  raw: string;
  /** The form fields (each name once). */
  form: Record<string, string>;
}

export type TokenAnswer =
  { kind: 'token'; expiresIn?: number | undefined; tokenType?: string; delayMs?: number } | { kind: 'status'; status: number; body: string; headers?: Record<string, string> } | { kind: 'delay'; ms: number } | { kind: 'reset' };

export class TokenEndpoint {
  server!: Server;
  url = '';
  requests: RecordedRequest[] = [];
  answer: TokenAnswer = { kind: 'token', expiresIn: 3600 };
  /** Every access token issued, in order. */
  issued: string[] = [];
  /** Issued access token → the subject_token it was issued for. */
  subjectOf = new Map<string, string | undefined>();

  static async start(): Promise<TokenEndpoint> {
    const endpoint = new TokenEndpoint();
    endpoint.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      // void: a failure here stays an unhandled rejection, which fails the test run.
      req.on(
        'end',
        () =>
          void (async () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            endpoint.requests.push({ method: req.method ?? '', headers: req.headers, raw, form: Object.fromEntries(new URLSearchParams(raw)) });
            const answer = endpoint.answer;
            if (answer.kind === 'reset') {
              req.socket.destroy();
              return;
            }
            if (answer.kind === 'delay') {
              await new Promise((r) => setTimeout(r, answer.ms));
              if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
              return;
            }
            if (answer.kind === 'status') {
              res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
              return;
            }
            if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
            const token = `exchanged-${randomUUID()}`;
            endpoint.issued.push(token);
            endpoint.subjectOf.set(token, new URLSearchParams(raw).get('subject_token') ?? undefined);
            const body = {
              access_token: token,
              issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
              token_type: answer.tokenType ?? 'Bearer',
              ...(answer.expiresIn !== undefined ? { expires_in: answer.expiresIn } : {}),
            };
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          })(),
      );
    });
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    endpoint.url = `http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}/oauth/token`;
    return endpoint;
  }

  reset(answer: TokenAnswer = { kind: 'token', expiresIn: 3600 }): void {
    this.requests = [];
    this.issued = [];
    this.subjectOf.clear();
    this.answer = answer;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
