/**
 * Reads a small request body as text, for adapters whose framework does not read it (hapi and a GET's body): a token
 * sent there must still be seen and refused (RFC 6750 §2, docs/decisions.md D3), and a body over the limit is 413 as
 * on Express (D13). Framework-neutral: Node's request in, text out.
 */
import type { IncomingMessage } from 'node:http';

/** The body is larger than the limit: answer 413. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly status = 413;
}

/** The body as UTF-8 text; rejects with {@link BodyTooLargeError} as soon as more than `limit` bytes arrived. */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string> {
  // Events, not `for await`: leaving an async iterator early destroys the socket before the 413 is sent.
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if ((size += chunk.length) <= limit) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).off('error', reject).pause();
      reject(new BodyTooLargeError('The request body is too large'));
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}
