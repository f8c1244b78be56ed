/**
 * readCappedText (src/core/issuer/read-capped.ts): a fetch response's body as UTF-8 text up to a byte cap
 * (docs/decisions.md D8, D13); past the cap, undefined and the request aborted, without reading the rest.
 */
import { describe, expect, it } from 'vitest';
import { readCappedText } from '../../../src/core/issuer/read-capped.js';

/** A response streaming `chunks`; `pulled` counts the chunks the reader asked for. */
function streamed(chunks: Uint8Array[]) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[pulled++];
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(body), pulled: () => pulled };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('readCappedText', () => {
  it('a body within the cap: its text, the request not aborted', async () => {
    const controller = new AbortController();
    expect(await readCappedText(new Response('{"issuer":"https://tenant.example.com/"}'), 1024, controller)).toBe('{"issuer":"https://tenant.example.com/"}');
    expect(controller.signal.aborted).toBe(false);
  });

  it('exactly the cap is still read', async () => {
    const controller = new AbortController();
    expect(await readCappedText(new Response('x'.repeat(8)), 8, controller)).toBe('x'.repeat(8));
    expect(controller.signal.aborted).toBe(false);
  });

  it('one byte over the cap: undefined, and the request is aborted', async () => {
    const controller = new AbortController();
    expect(await readCappedText(new Response('x'.repeat(9)), 8, controller)).toBeUndefined();
    expect(controller.signal.aborted).toBe(true);
  });

  it('the cap counts bytes, not characters', async () => {
    // "€€€" is 3 characters and 9 bytes.
    expect(await readCappedText(new Response('€€€'), 8, new AbortController())).toBeUndefined();
    expect(await readCappedText(new Response('€€€'), 9, new AbortController())).toBe('€€€');
  });

  it('chunks are joined before decoding: a character split across chunks survives', async () => {
    const euro = bytes('€');
    const { response } = streamed([bytes('a'), euro.subarray(0, 2), euro.subarray(2), bytes('b')]);
    expect(await readCappedText(response, 100, new AbortController())).toBe('a€b');
  });

  it('stops reading as soon as the total crosses the cap: the rest of an endless body is never pulled', async () => {
    const { response, pulled } = streamed(Array.from({ length: 1000 }, () => bytes('x'.repeat(10))));
    const controller = new AbortController();
    expect(await readCappedText(response, 25, controller)).toBeUndefined();
    expect(pulled()).toBe(3);
    expect(controller.signal.aborted).toBe(true);
  });

  it('no body (e.g. 204): the empty string', async () => {
    const controller = new AbortController();
    expect(await readCappedText(new Response(null, { status: 204 }), 8, controller)).toBe('');
    expect(controller.signal.aborted).toBe(false);
  });

  it('an empty body: the empty string', async () => {
    expect(await readCappedText(new Response(''), 8, new AbortController())).toBe('');
  });

  it('a read error rejects with it', async () => {
    const failure = new TypeError('terminated');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes('part'));
        controller.error(failure);
      },
    });
    await expect(readCappedText(new Response(body), 100, new AbortController())).rejects.toBe(failure);
  });
});
