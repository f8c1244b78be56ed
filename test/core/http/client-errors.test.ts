/** The JSON body and kept headers of non-auth errors, shared by the adapters (the hapi tests compare them with Express's). */
import { describe, expect, it } from 'vitest';
import { clientErrorBody, clientErrorHeaders, validationFields } from '../../../src/core/http/client-errors.js';

describe('clientErrorBody', () => {
  it('a known status: its code and fixed text, never the error’s message', () => {
    expect(clientErrorBody(413, new Error('limit 102400 at /srv/app'))).toEqual({ error: 'payload_too_large', error_description: 'The request body is too large' });
    expect(clientErrorBody(503, new Error('redis down at 10.0.0.7'))).toEqual({ error: 'server_error', error_description: 'Internal server error' });
  });

  it('an unlisted 4xx is invalid_request; fields only below 500', () => {
    expect(clientErrorBody(418)).toEqual({ error: 'invalid_request', error_description: 'The request cannot be processed' });
    const fields = { fields: { 'body.name': { message: 'required', value: 'secret' } } };
    expect(clientErrorBody(400, fields)).toEqual({ error: 'invalid_request', error_description: 'The request failed validation: body.name', fields: { 'body.name': { message: 'required' } } });
    expect(clientErrorBody(500, fields)).not.toHaveProperty('fields');
  });

  it('at most 20 fields, names cleaned and cut to 100 characters', () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`body.${'"\r\n'.repeat(60)}${i}`, { message: 'x' }]));
    const names = Object.keys(validationFields({ fields: many })!);
    expect(names).toHaveLength(20);
    for (const name of names) expect(name).toMatch(/^[\x20-\x7e]{1,100}$/);
  });
});

describe('clientErrorHeaders', () => {
  it('keeps challenge-related headers of printable ASCII, drops the rest', () => {
    expect(clientErrorHeaders({ 'WWW-Authenticate': 'Basic realm="x"', 'Set-Cookie': 's=1', Allow: 'GET', 'Retry-After': '5\r\nX: y', 'DPoP-Nonce': 7 })).toEqual({ 'WWW-Authenticate': 'Basic realm="x"', Allow: 'GET' });
    expect(clientErrorHeaders(undefined)).toEqual({});
  });
});
