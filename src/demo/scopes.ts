/**
 * The scopes this API defines, with the descriptions shown in Swagger UI, the OpenAPI document, the RFC 9728
 * metadata and the development issuer. The one place scopes are described.
 */
export const SCOPES = {
  'read:messages': 'Read messages',
  'read:data': 'Read data',
  'write:data': 'Create and change data',
} as const satisfies Record<string, string>;

export type Scope = keyof typeof SCOPES;
