/**
 * `finalizeSpec` with a step-up policy (docs/decisions.md D23): the operation's 401 names the required `acr` and
 * `max_age` and its example is `insufficient_user_authentication`; other operations keep the plain 401; finalizing
 * twice changes nothing; the document still validates against the OpenAPI 3.0 schema.
 */
import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { finalizeSpec } from '../../../src/core/docs/spec.js';
import type { Policy } from '../../../src/core/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk untyped OpenAPI documents
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const POLICIES: Record<string, Policy> = { recentMfa: { stepUp: { acr: [MFA], maxAge: 300 } } };

function generated(): Json {
  const op = (security: Array<Record<string, string[]>>) => ({ security, responses: { '200': { description: 'OK' } } });
  return {
    openapi: '3.0.0',
    info: { title: 'API', version: '1' },
    paths: { '/payments': { get: op([{ recentMfa: ['read:data'] }]) }, '/messages': { get: op([{ auth0: ['read:messages'] }]) } },
  };
}

const unauthorized = (doc: Json, path: string) => doc.paths[path].get.responses['401'];

describe('finalizeSpec with step-up', () => {
  const doc = finalizeSpec<Json>(generated(), { scopes: { 'read:data': '', 'read:messages': '' }, policies: POLICIES });

  it('documents the step-up 401: acr and max_age in the description, the insufficient_user_authentication example', () => {
    const response = unauthorized(doc, '/payments');
    expect(response.content['application/json'].example.error).toBe('insufficient_user_authentication');
    expect(response.description).toContain(MFA);
    expect(response.description).toContain('`max_age` 300 seconds');
    expect(response.headers).toHaveProperty('WWW-Authenticate');
    expect(unauthorized(doc, '/messages').content['application/json'].example.error).toBe('invalid_token');
  });

  it('is idempotent', () => {
    expect(finalizeSpec(doc, { scopes: { 'read:data': '', 'read:messages': '' }, policies: POLICIES })).toEqual(doc);
  });

  it('validates against the OpenAPI 3.0 schema', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
