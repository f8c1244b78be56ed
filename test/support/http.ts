/** Raw HTTP for tests that compare frameworks: exact headers (Host included), bytes on a socket. */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: unknown;
}

/** One HTTP request with exactly these headers (Host included: fetch would not let a test set it). */
export function send(base: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: { host: url.host, ...options.headers }, setHost: false }, (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (chunk: string) => (text += chunk))
        .on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, body });
        });
    });
    req.on('error', reject).end(options.body);
  });
}

/** A request written byte for byte (two Host lines, an absolute-form target); the status line and the body back. */
export function sendRaw(base: string, head: string): Promise<{ status: number; body: unknown }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(`${head}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket
      .setEncoding('utf8')
      .on('data', (chunk: string) => (data += chunk))
      .on('end', () => {
        const [top, ...rest] = data.split('\r\n\r\n');
        resolve({ status: Number(top!.split(' ')[1]), body: JSON.parse(rest.join('\r\n\r\n')) });
      });
    socket.on('error', reject);
  });
}
