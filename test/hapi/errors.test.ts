/**
 * The hapi error rendering (onPreResponse): hapi's own errors (415, a failed joi validation) in the JSON shape,
 * tsoa's ValidateError fields cleaned, 5xx reported to `onError` with the request and never shown, nothing leaked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Hapi from '@hapi/hapi';
import Boom from '@hapi/boom';
import { createAuth0Api } from '../../src/hapi/index.js';
import { send } from '../support/http.js';

const reported: Array<{ error: unknown; path: string }> = [];
let server: Hapi.Server;
let base: string;

beforeAll(async () => {
  server = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
  const auth0 = createAuth0Api({ domain: 'https://issuer.example.com', audience: 'https://api.example.com', onError: (error, request) => reported.push({ error, path: request.path }) });
  await server.register(auth0.plugin);
  server.route({ method: 'POST', path: '/json', options: { payload: { allow: 'application/json' } }, handler: () => ({ ok: true }) });
  server.route({
    method: 'GET',
    path: '/crash',
    handler: () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    },
  });
  server.route({
    method: 'GET',
    path: '/validation',
    handler: () => {
      // What tsoa's hapi route throws for a ValidateError: the error boomified, its field names possibly the client's.
      const error = Boom.boomify(Object.assign(new Error('Validation'), { fields: { [`body.${'"x"\r\n'.repeat(50)}`]: { message: 'excess', value: 'secret' } } }), { statusCode: 400 });
      throw error;
    },
  });
  await server.start();
  base = server.info.uri;
});

afterAll(async () => {
  await server?.stop();
});

describe('hapi errors as JSON', () => {
  it('415 from hapi’s payload parser', async () => {
    const reply = await send(base, '/json', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(reply).toMatchObject({ status: 415, body: { error: 'unsupported_media_type', error_description: 'Unsupported media type' } });
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('a 5xx: reported with its request, body without the message', async () => {
    const reply = await send(base, '/crash');
    expect(reply).toMatchObject({ status: 500, body: { error: 'server_error', error_description: 'Internal server error' } });
    expect(reply.text).not.toMatch(/hunter2|ECONNREFUSED|stack/);
    expect(reported.at(-1)).toMatchObject({ path: '/crash', error: expect.objectContaining({ message: expect.stringContaining('ECONNREFUSED') }) });
  });

  it('validation fields: names cleaned and capped, values dropped; a 4xx is not reported', async () => {
    const before = reported.length;
    const reply = await send(base, '/validation');
    expect(reply.status).toBe(400);
    const body = reply.body as { error: string; fields: Record<string, { message: string }> };
    expect(body.error).toBe('invalid_request');
    const [name] = Object.keys(body.fields);
    expect(name!.length).toBeLessThanOrEqual(100);
    expect(name).not.toMatch(/[\r\n"]/);
    expect(reply.text).not.toContain('secret');
    expect(reported.length).toBe(before);
  });
});
