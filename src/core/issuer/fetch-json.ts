/**
 * Fetches a JSON object from the identity provider with a timeout, a size cap and no redirects.
 * Failures are {@link ProviderFetchError}s whose `reason` is safe to log; callers turn them into 503s.
 */
import { readCappedText } from './read-capped.js';
import { ProviderFetchError } from '../errors.js';

export interface FetchJsonOptions {
  fetch: typeof fetch;
  timeout: number;
  maxBytes: number;
}

export async function fetchJson(url: string, options: FetchJsonOptions): Promise<Record<string, unknown>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeout);
  try {
    let response: Response;
    try {
      response = await options.fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        redirect: 'manual', // a redirect could point anywhere: refuse it
        signal: controller.signal,
      });
    } catch (error) {
      throw new ProviderFetchError(url, controller.signal.aborted ? 'timeout' : 'network', String((error as Error)?.message ?? error));
    }
    if (response.status >= 300 && response.status < 400) throw new ProviderFetchError(url, 'redirect', `redirect ${response.status}`);
    if (response.type === 'opaqueredirect') throw new ProviderFetchError(url, 'redirect', 'redirect');
    if (!response.ok) throw new ProviderFetchError(url, 'status', `HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > options.maxBytes) throw new ProviderFetchError(url, 'too_large', `content-length ${declared}`);
    const text = await readCapped(response, options.maxBytes, url, controller);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ProviderFetchError(url, 'not_json', 'response is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProviderFetchError(url, 'invalid', 'response is not a JSON object');
    return body as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
  }
}

/** The body, capped: `too_large` past `maxBytes`, `timeout` or `network` when reading fails. */
async function readCapped(response: Response, maxBytes: number, url: string, controller: AbortController): Promise<string> {
  let text: string | undefined;
  try {
    text = await readCappedText(response, maxBytes, controller);
  } catch (error) {
    throw new ProviderFetchError(url, controller.signal.aborted ? 'timeout' : 'network', String((error as Error)?.message ?? error));
  }
  if (text === undefined) throw new ProviderFetchError(url, 'too_large', `more than ${maxBytes} bytes`);
  return text;
}
