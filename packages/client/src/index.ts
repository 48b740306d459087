/**
 * @circles/client: the one typed GraphQL client for Circles (web now, mobile later).
 *
 * Every document and type comes from src/generated/graphql.ts, generated from schema/api.graphql; nothing here
 * describes the API by hand. `createClient` is deliberately tiny: POST JSON, typed data back, a `ClientError`
 * carrying the server's error code otherwise.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';

export * from './generated/graphql.ts';
export type { TypedDocumentNode };

/** Header the gateway requires on cookie-authenticated requests (a cross-site form cannot set it: CSRF guard). */
export const CSRF_HEADER = 'x-circles-csrf';

export interface ClientOptions {
  /** The GraphQL endpoint: `/graphql` in a browser, `${GATEWAY_URL}/graphql` on a server. */
  url: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Extra headers on every request (e.g. a forwarded cookie on the server, or `authorization` in an app). */
  headers?: Record<string, string>;
}

/** A GraphQL or transport failure. `code` is the server's stable `extensions.code` (or a transport code). */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: string;
  /** The input field the error is about, when the server said (e.g. CONFLICT on `email`). */
  readonly field: string | undefined;
  /** For RATE_LIMITED: how long to wait before trying again. */
  readonly retryAfterSeconds: number | undefined;
  /** HTTP status of the response, when there was one. */
  readonly status: number | undefined;

  constructor(init: { code: string; message: string; field?: string | undefined; retryAfterSeconds?: number | undefined; status?: number | undefined }) {
    super(init.message);
    this.code = init.code;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.status = init.status;
  }
}

export function isClientError(err: unknown, code?: string): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}

/** Variables are optional exactly when the operation has no required variables. */
type VariablesArg<TVars> = Record<string, never> extends TVars ? [variables?: TVars] : [variables: TVars];

export interface Client {
  request<TData, TVars extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVars>, ...[variables]: VariablesArg<TVars>): Promise<TData>;
}

interface GraphQLResponseError {
  message?: unknown;
  extensions?: { code?: unknown; field?: unknown; retryAfterSeconds?: unknown };
}

// Documents are module constants: print each once.
const printed = new WeakMap<DocumentNode, string>();
function source(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

function operationName(document: DocumentNode): string | undefined {
  for (const def of document.definitions) if (def.kind === 'OperationDefinition') return def.name?.value;
  return undefined;
}

function toClientError(error: GraphQLResponseError, status: number): ClientError {
  const ext = error.extensions ?? {};
  return new ClientError({
    code: typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR',
    message: typeof error.message === 'string' ? error.message : 'Unexpected error.',
    field: typeof ext.field === 'string' ? ext.field : undefined,
    retryAfterSeconds: typeof ext.retryAfterSeconds === 'number' ? ext.retryAfterSeconds : undefined,
    status,
  });
}

export function createClient(options: ClientOptions): Client {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  return {
    async request<TData, TVars extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVars>, ...[variables]: VariablesArg<TVars>): Promise<TData> {
      let response: Response;
      try {
        response = await doFetch(options.url, {
          method: 'POST',
          credentials: 'same-origin',
          headers: {
            ...options.headers,
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            [CSRF_HEADER]: '1',
          },
          body: JSON.stringify({ query: source(document), operationName: operationName(document), variables: variables ?? {} }),
        });
      } catch (err) {
        throw new ClientError({ code: 'NETWORK_ERROR', message: `Could not reach the server: ${(err as Error).message}` });
      }
      let body: { data?: TData | null; errors?: GraphQLResponseError[] };
      try {
        body = (await response.json()) as typeof body;
      } catch {
        throw new ClientError({ code: 'BAD_RESPONSE', message: `The server answered ${response.status} without a GraphQL response.`, status: response.status });
      }
      const first = body.errors?.[0];
      if (first) throw toClientError(first, response.status);
      if (body.data == null) {
        throw new ClientError({ code: 'BAD_RESPONSE', message: `The server answered ${response.status} without data.`, status: response.status });
      }
      return body.data;
    },
  };
}
