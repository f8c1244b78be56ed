/**
 * The exchanger's `private_key_jwt` client authentication (RFC 7523) verified by a real authorization server:
 * oidc-provider with a client registered with `token_endpoint_auth_method: private_key_jwt` and its public key.
 * The provider authenticates the client before any grant runs, so a token back means the assertion was accepted;
 * a key the client did not register is refused (invalid_client) and answered as a TokenExchangeError.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenExchanger, TokenExchangeError } from '../../../src/core/issuer/token-exchange.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const registered = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const seen: Array<{ clientId: string; subject: unknown }> = [];
let server: Server;
let tokenEndpoint: string;

beforeAll(async () => {
  const specifier = 'oidc-provider'; // a variable specifier: TypeScript does not look for the declarations it does not ship
  const { Provider } = (await import(specifier)) as { Provider: new (issuer: string, config: object) => any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- oidc-provider ships no types
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'api-client',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...registered.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }] },
        grant_types: [GRANT],
        response_types: [],
        redirect_uris: [],
      },
    ],
    clientAuthMethods: ['private_key_jwt'],
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'server', alg: 'RS256', use: 'sig' }] },
    features: { devInteractions: { enabled: false } },
  });
  // A grant that only reports who authenticated: client authentication is oidc-provider's own.
  provider.registerGrantType(
    GRANT,
    async (ctx: { oidc: { client: { clientId: string }; params: Record<string, unknown> }; body: unknown }) => {
      seen.push({ clientId: ctx.oidc.client.clientId, subject: ctx.oidc.params.subject_token });
      ctx.body = { access_token: `issued-for-${ctx.oidc.client.clientId}`, token_type: 'Bearer', expires_in: 600, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope'],
  );
  server.on('request', provider.callback());
  tokenEndpoint = `${issuer}/token`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

const caller = { token: 'the-caller-token', claims: { exp: Math.floor(Date.now() / 1000) + 600 } };

describe('private_key_jwt against oidc-provider', () => {
  it('the registered key authenticates the client: the exchange succeeds', async () => {
    const exchanger = createTokenExchanger({ clientId: 'api-client', privateKey: registered.privateKey, keyId: 'k1' }, { tokenEndpoint: async () => tokenEndpoint });
    expect(await exchanger.exchange(caller, { audience: 'https://downstream.example.com' })).toBe('issued-for-api-client');
    expect(seen).toEqual([{ clientId: 'api-client', subject: 'the-caller-token' }]);
  });

  it('another key is refused (invalid_client): a TokenExchangeError, the grant never runs', async () => {
    seen.length = 0;
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const exchanger = createTokenExchanger({ clientId: 'api-client', privateKey: other, keyId: 'k1' }, { tokenEndpoint: async () => tokenEndpoint });
    const error = await exchanger.exchange(caller, { audience: 'https://downstream.example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenExchangeError);
    expect((error as TokenExchangeError).upstreamError).toBe('invalid_client');
    expect(seen).toHaveLength(0);
  });
});
