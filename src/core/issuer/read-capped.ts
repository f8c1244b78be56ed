/**
 * A fetch response's body, read with a size cap: identity-provider, token-endpoint and downstream answers are bounded
 * (docs/decisions.md D8, D13) so a server cannot make us buffer without limit.
 */

/** The body as UTF-8 text, or undefined once it grows past `maxBytes` (the request is then aborted). Read errors reject. */
export async function readCappedText(response: Response, maxBytes: number, controller: AbortController): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      controller.abort();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
