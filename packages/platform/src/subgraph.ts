import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  GraphQLScalarType,
  Kind,
  getOperationAST,
  subscribe,
} from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { DomainError } from './errors.ts';
import { IDENTITY_HEADER, type Identity, IdentityError, verifyIdentity } from './identity.ts';
import type { Logger } from './log.ts';
import type { RequestContext, Resolvers, SessionCookieAction } from './service.ts';

/** Key under which a subgraph result tells the gateway what to do with the session cookie. */
export const SESSION_EXTENSION = 'circlesSession';
/** Key under which the gateway hands the signed identity to in-process subgraphs. */
export const IDENTITY_CONTEXT_KEY = 'circlesIdentity';

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in time, ISO 8601 in UTC.',
  serialize: (v) => (v instanceof Date ? v : new Date(v as string | number)).toISOString(),
  parseValue: (v) => {
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return d;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO 8601 string');
    const d = new Date(ast.value);
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return d;
  },
});

export function buildServiceSchema(typeDefs: DocumentNode, resolvers: Resolvers): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs, resolvers: { DateTime, ...resolvers } as never }]);
}

// A box rather than a plain property: Yoga copies the context object, the box reference survives that.
type ContextWithCookie = RequestContext & { [SESSION_EXTENSION]: { action?: SessionCookieAction } };

export function createRequestContext(identity: Identity): ContextWithCookie {
  const box: { action?: SessionCookieAction } = {};
  return {
    identity,
    sessionCookie: {
      set: (token, expiresAt) => void (box.action = { set: { token, expiresAt } }),
      clear: () => void (box.action = { clear: true }),
    },
    [SESSION_EXTENSION]: box,
  };
}

/** PostgreSQL SQLSTATEs for values of the wrong form: invalid text representation, NUL/invalid bytes, overflow. */
const malformedValueCodes = new Set(['22P02', '22021', '22003', '22008', '22007', '22001']);

/**
 * The GraphQL transport's error mapper: domain codes become `extensions.code`; anything unexpected is logged
 * and masked so internals never reach a client.
 */
export function mapError(err: GraphQLError, log: Logger): GraphQLError {
  const original = err.originalError;
  if (original instanceof DomainError) {
    return new GraphQLError(original.message, { nodes: err.nodes, path: err.path, extensions: { ...original.details, code: original.code } });
  }
  if (!original || (original instanceof GraphQLError && original.extensions?.code)) return err;
  if (original instanceof GraphQLError) return original;
  // The database refusing a value's form (not a uuid, a NUL byte, an out-of-range number) is the caller's bad
  // input, not our failure: say so, without echoing the database's message.
  const pgCode = (original as { code?: unknown }).code;
  if (typeof pgCode === 'string' && malformedValueCodes.has(pgCode)) {
    return new GraphQLError('A value in this request is malformed.', { nodes: err.nodes, path: err.path, extensions: { code: 'BAD_USER_INPUT' } });
  }
  log.error('unexpected resolver error', { err: original, path: err.path?.join('.') });
  return new GraphQLError('Unexpected error.', { nodes: err.nodes, path: err.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

function finish(result: ExecutionResult, ctx: ContextWithCookie, log: Logger): ExecutionResult {
  const errors = result.errors?.map((e) => mapError(e, log));
  const action = ctx[SESSION_EXTENSION]?.action;
  const extensions = action ? { ...result.extensions, [SESSION_EXTENSION]: action } : result.extensions;
  return { ...result, ...(errors ? { errors } : {}), ...(extensions ? { extensions } : {}) };
}

export interface SubgraphRequest {
  document: DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string;
  context?: Record<string, unknown>;
}

/** Executes a subgraph in the gateway's process: no HTTP, same identity check and error mapping. */
export function createInProcessExecutor(schema: GraphQLSchema, secret: string, log: Logger) {
  return async (req: SubgraphRequest): Promise<ExecutionResult | AsyncIterable<ExecutionResult>> => {
    let identity: Identity;
    try {
      identity = verifyIdentity(secret, req.context?.[IDENTITY_CONTEXT_KEY] as string | undefined);
    } catch (err) {
      return { errors: [new GraphQLError((err as Error).message, { extensions: { code: 'GATEWAY_REQUIRED' } })] };
    }
    const ctx = createRequestContext(identity);
    const args = { schema, document: req.document, variableValues: req.variables, operationName: req.operationName, contextValue: ctx };
    const op = getOperationAST(req.document, req.operationName);
    if (op?.operation === 'subscription') {
      const res = await subscribe(args);
      if (!(Symbol.asyncIterator in res)) return finish(res, ctx, log);
      return (async function* () {
        for await (const r of res) yield finish(r, ctx, log);
      })();
    }
    return finish(await execute(args), ctx, log);
  };
}

/**
 * A subgraph served over HTTP for distributed mode. Only the gateway may call it: every request must carry a
 * fresh identity signed with the shared secret, otherwise it is refused before parsing.
 */
export function createSubgraphHttpHandler(schema: GraphQLSchema, secret: string, log: Logger, opts: { production: boolean }) {
  const verified = new WeakMap<Request, Identity>();
  const requireGateway: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/graphql') return;
      try {
        verified.set(request, verifyIdentity(secret, request.headers.get(IDENTITY_HEADER)));
      } catch (err) {
        const reason = err instanceof IdentityError ? err.message : 'invalid gateway identity';
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message: `Requests must come through the gateway (${reason}).`, extensions: { code: 'GATEWAY_REQUIRED' } }] }), {
            status: 401,
            headers: { 'content-type': 'application/json' },
          }),
        );
      }
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          setResult(finish(result, args.contextValue as unknown as ContextWithCookie, log));
        },
      };
    },
  };
  return createYoga<Record<string, unknown>, ContextWithCookie>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
    // Errors are mapped in onExecuteDone; Yoga's masking would hide our codes.
    maskedErrors: false,
    plugins: [requireGateway],
    context: ({ request }) => createRequestContext(verified.get(request)!),
  });
}
