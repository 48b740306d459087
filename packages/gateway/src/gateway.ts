import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { Transport } from '@graphql-mesh/transport-common';
import {
  type Config,
  IDENTITY_CONTEXT_KEY,
  IDENTITY_HEADER,
  type Identity,
  type Logger,
  refuseUpgrade,
  SESSION_EXTENSION,
  type SessionCookieAction,
  type SessionManager,
  type SubgraphRequest,
  signIdentity,
} from '@circles/platform';
import { type DocumentNode, type ExecutionResult, GraphQLError, parse as parseGraphQL } from 'graphql';
import { maskError } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { clearSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.ts';
import { queryLimitsRule } from './limits.ts';

export type InProcessExecutor = (req: SubgraphRequest) => Promise<ExecutionResult | AsyncIterable<ExecutionResult>>;

export interface GatewayOptions {
  supergraphSdl: string;
  config: Config;
  sessions: SessionManager;
  secret: string;
  log: Logger;
  /** Embedded mode: subgraphs executed in this process. Otherwise they are called over HTTP at config.subgraphUrls. */
  inProcess?: Record<string, InProcessExecutor>;
  /** Plain HTTP routes of services (uploads, files), by path prefix. */
  routes?: EdgeRoute[];
  /** WebSocket endpoints of services (chat), by exact path. */
  sockets?: SocketRoute[];
}

/** A service's WebSocket endpoint behind the gateway: it takes the upgrade with the caller's signed identity. */
export interface SocketRoute {
  path: string;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, signedIdentity: string): void;
}

/** A service's HTTP route behind the gateway: it receives the request and the caller's signed identity. */
export interface EdgeRoute {
  prefix: string;
  forward(request: Request, signedIdentity: string): Promise<Response>;
}

export interface GatewayStats {
  /** Operations the gateway sent to subgraphs: lets tests prove a rejected query never reached one. */
  subgraphCalls: number;
}

const CSRF_HEADER = 'x-circles-csrf';
const JSON_TYPES = new Set(['application/json', 'application/graphql-response+json']);

/**
 * The federation gateway: composes the subgraphs, resolves the caller's session once per request and hands
 * subgraphs a signed identity, and enforces the edge rules (CSRF, query limits, masked errors, no
 * introspection in production).
 */
export function createGateway(opts: GatewayOptions) {
  const { config, sessions, secret, log } = opts;
  const production = config.env === 'production';
  const secureCookie = new URL(config.publicUrl).protocol === 'https:';
  const allowedOrigins = new Set([new URL(config.publicUrl).origin, ...(config.gatewayUrl ? [new URL(config.gatewayUrl).origin] : []), ...config.allowedOrigins]);
  const stats: GatewayStats = { subgraphCalls: 0 };
  const cookiesFor = new WeakMap<Request, string[]>();
  const addCookie = (req: Request, value: string) => cookiesFor.set(req, [...(cookiesFor.get(req) ?? []), value]);

  const gatewayError = (status: number, code: string, message: string) =>
    new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status, headers: { 'content-type': 'application/json' } });

  // Browsers may call the gateway only from our own pages. A foreign Origin is refused outright; requests
  // carrying the session cookie must also send a custom header (impossible cross-site without a CORS preflight,
  // which only our origins pass); and so must any body a plain HTML form could send, so nobody can be logged
  // into someone else's account by a cross-site form (login CSRF). Apps without cookies (bearer) send JSON.
  const csrfRejection = (request: Request, opts: { jsonOnly: boolean }): Response | null => {
    const origin = request.headers.get('origin');
    if (origin && !allowedOrigins.has(origin) && !sameOrigin(request, origin, config.trustProxy)) {
      return gatewayError(403, 'CSRF_REJECTED', `Requests from ${origin} are not allowed.`);
    }
    if (request.headers.get(CSRF_HEADER)) return null;
    if (readCookie(request.headers.get('cookie'), SESSION_COOKIE)) {
      return gatewayError(403, 'CSRF_REJECTED', `Cookie-authenticated requests must send the ${CSRF_HEADER} header.`);
    }
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (opts.jsonOnly && request.method === 'POST' && !JSON_TYPES.has(type)) {
      return gatewayError(403, 'CSRF_REJECTED', `Send GraphQL as application/json, or send the ${CSRF_HEADER} header.`);
    }
    return null;
  };
  const csrf: GatewayPlugin = {
    onRequest({ request, url, endResponse }) {
      if (url.pathname !== '/graphql' || request.method === 'OPTIONS') return;
      const rejected = csrfRejection(request, { jsonOnly: true });
      if (rejected) return endResponse(rejected);
    },
  };

  /** Who is calling, from the session cookie or bearer token, signed for the subgraphs. */
  const resolveIdentity = async (request: Request, remoteAddress: string | undefined): Promise<string> => {
    const ip = clientIp(request, remoteAddress, config.trustProxy);
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? null;
    const cookieToken = readCookie(request.headers.get('cookie'), SESSION_COOKIE);
    const token = bearer ?? cookieToken;
    const session = token ? await sessions.resolve(token, { ip }) : null;
    // A stale cookie is cleared so the browser stops sending it.
    if (!bearer && cookieToken && !session) addCookie(request, clearSessionCookie(secureCookie));
    const identity: Identity = {
      userId: session?.userId ?? null,
      sessionId: session?.id ?? null,
      ip,
      userAgent: request.headers.get('user-agent'),
      requestId: request.headers.get('x-request-id') ?? crypto.randomUUID(),
      credential: session ? (bearer ? 'bearer' : 'cookie') : null,
    };
    return signIdentity(secret, identity);
  };
  const anonymousIdentity = (request: Request, remoteAddress: string | undefined): string =>
    signIdentity(secret, {
      userId: null,
      sessionId: null,
      ip: clientIp(request, remoteAddress, config.trustProxy),
      userAgent: request.headers.get('user-agent'),
      requestId: request.headers.get('x-request-id') ?? crypto.randomUUID(),
      credential: null,
    });
  const remoteOf = (serverContext: unknown) => (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req?.socket?.remoteAddress;

  const identityPlugin: GatewayPlugin = {
    async onContextBuilding({ context, extendContext }) {
      extendContext({ [IDENTITY_CONTEXT_KEY]: await resolveIdentity(context.request, remoteOf(context)) } as never);
    },
  };

  // Services' plain HTTP routes get the same edge as /graphql: foreign origins and cookie requests without the
  // custom header are refused for anything but reads, and the service receives a signed identity.
  const edgeRoutes: GatewayPlugin = {
    async onRequest({ request, url, endResponse, serverContext }) {
      const route = opts.routes?.find((r) => url.pathname.startsWith(r.prefix));
      if (!route) return;
      const read = request.method === 'GET' || request.method === 'HEAD';
      if (!read) {
        // Uploads carry raw bytes, not JSON; a cross-site request without cookies is anonymous and refused by the
        // route itself, so only the origin and the cookie rule apply.
        const rejected = csrfRejection(request, { jsonOnly: false });
        if (rejected) return endResponse(rejected);
      }
      try {
        // Reads are files a page shows many of (every avatar in a list): they are served as public, or by signed
        // URL, never by session, so they skip the session lookup and go with an anonymous identity.
        const identity = read ? anonymousIdentity(request, remoteOf(serverContext)) : await resolveIdentity(request, remoteOf(serverContext));
        const response = await route.forward(request, identity);
        for (const c of cookiesFor.get(request) ?? []) response.headers.append('set-cookie', c);
        endResponse(response);
      } catch (err) {
        // A client that went away mid-upload is not the service failing.
        if (request.signal?.aborted) {
          log.info('client left before a service route answered', { prefix: route.prefix });
          return endResponse(gatewayError(499, 'CLIENT_CLOSED_REQUEST', 'The request was cancelled.'));
        }
        log.error('service route failed', { prefix: route.prefix, err: err instanceof Error ? err : new Error(String(err)) });
        endResponse(gatewayError(502, 'BAD_GATEWAY', 'The service is unavailable. Try again shortly.'));
      }
    },
  };

  // Subgraphs ask for cookie changes through a result extension; the gateway applies and strips it.
  const sessionCookies: GatewayPlugin = {
    onSubgraphExecute({ executionRequest }) {
      stats.subgraphCalls++;
      const request = (executionRequest.context as { request?: Request } | undefined)?.request;
      return ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) return;
        const action = result.extensions?.[SESSION_EXTENSION] as SessionCookieAction | undefined;
        if (!action) return;
        const { [SESSION_EXTENSION]: _, ...rest } = result.extensions ?? {};
        setResult({ ...result, extensions: rest });
        if (!request) return;
        addCookie(request, 'set' in action ? sessionCookie(action.set.token, action.set.expiresAt, secureCookie) : clearSessionCookie(secureCookie));
      };
    },
    onResponse({ request, response }) {
      for (const c of cookiesFor.get(request) ?? []) response.headers.append('set-cookie', c);
    },
  };

  // Replacing the parser disables the runtime's own parse cache, so keep one here: the same operation text
  // parses once, and returning the same document object lets validation results be cached too.
  const parsed = new Map<string, DocumentNode>();
  const limits: GatewayPlugin = {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        const text = typeof source === 'string' ? source : source.body;
        const hit = parsed.get(text);
        if (hit) return hit;
        let doc: DocumentNode;
        try {
          doc = parseGraphQL(source, { ...options, maxTokens: config.graphqlMaxTokens });
        } catch (err) {
          if (err instanceof GraphQLError && /more than \d+ tokens|more that \d+ tokens/i.test(err.message)) {
            throw new GraphQLError(`Query has more than ${config.graphqlMaxTokens} tokens.`, { extensions: { code: 'TOO_MANY_TOKENS', http: { status: 400 } } });
          }
          throw err;
        }
        if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value as string);
        parsed.set(text, doc);
        return doc;
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(queryLimitsRule({ maxDepth: config.graphqlMaxDepth, maxAliases: config.graphqlMaxAliases, maxCost: config.graphqlMaxCost }));
    },
  };

  const inProcessTransport: Transport = {
    getSubgraphExecutor({ subgraphName }) {
      const exec = opts.inProcess?.[subgraphName];
      if (!exec) throw new Error(`subgraph ${subgraphName} is not running in this process`);
      return exec as never;
    },
  };

  const runtime = createGatewayRuntime({
    supergraph: opts.supergraphSdl,
    // The HTTP transport is loaded only by a gateway that uses it.
    transports: opts.inProcess ? { http: inProcessTransport } : { http: import('@graphql-mesh/transport-http') },
    transportEntries: opts.inProcess
      ? undefined
      : Object.fromEntries(Object.entries(config.subgraphUrls).map(([name, location]) => [name, { location }])),
    propagateHeaders: {
      fromClientToSubgraphs: ({ context }) => ({ [IDENTITY_HEADER]: (context as Record<string, string>)[IDENTITY_CONTEXT_KEY] }),
    },
    graphqlEndpoint: '/graphql',
    // Only our own origins get CORS (the runtime's default would reflect any origin, with credentials).
    cors: { origin: [...allowedOrigins], credentials: true, methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', CSRF_HEADER, 'x-request-id'] },
    healthCheckEndpoint: '/healthz',
    readinessCheckEndpoint: '/readyz',
    landingPage: false,
    graphiql: production ? false : { title: 'Circles GraphQL' },
    disableIntrospection: production ? { disableIf: () => true } : undefined,
    batching: false,
    // In-process subgraphs gain nothing from batching root fields into one call or from request-id headers to
    // forward, and both cost ~7% of gateway throughput here (measured with npm run bench).
    ...(opts.inProcess ? { __experimental__batchExecution: false, requestId: false } : {}),
    logging: false,
    maskedErrors: {
      maskError(error, message, isDev) {
        const masked = maskError(error, message, isDev);
        // Only what gets masked is unexpected; domain and validation errors pass through unlogged.
        if (masked !== error) log.error('gateway error', { err: error instanceof Error ? error : new Error(String(error)) });
        return masked;
      },
    },
    plugins: () => [edgeRoutes, csrf, identityPlugin, sessionCookies, limits],
  });

  /**
   * WebSocket upgrades (attach to the server's 'upgrade' event). The edge rules of /graphql, adapted: the Origin
   * must be ours (a browser always sends it, and cookies ride along cross-site, so this is the CSRF check for
   * sockets); a cookie without an Origin is refused; the session must be live. The service gets a signed identity.
   */
  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    const route = opts.sockets?.find((r) => r.path === path);
    if (!route) return refuseUpgrade(socket, 404, 'NOT_FOUND', 'No WebSocket endpoint here.');
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { headers });
    const origin = request.headers.get('origin');
    const bearer = /^Bearer\s+\S+$/i.test(request.headers.get('authorization') ?? '');
    if (origin ? !allowedOrigins.has(origin) && !sameOrigin(request, origin, config.trustProxy) : !bearer) {
      return refuseUpgrade(socket, 403, 'ORIGIN_REJECTED', origin ? `WebSockets from ${origin} are not allowed.` : 'Browsers must send an Origin; apps sign in with a bearer token.');
    }
    resolveIdentity(request, req.socket.remoteAddress).then(
      (signed) => {
        if (!socket.writable) return;
        const identity = JSON.parse(Buffer.from(signed.split('.')[1]!, 'base64url').toString('utf8')) as Identity;
        if (!identity.userId) return refuseUpgrade(socket, 401, 'UNAUTHENTICATED', 'Sign in to connect.');
        route.upgrade(req, socket, head, signed);
      },
      (err: unknown) => {
        log.error('socket upgrade failed', { err: err instanceof Error ? err : new Error(String(err)) });
        refuseUpgrade(socket, 503, 'UNAVAILABLE', 'Try again shortly.');
      },
    );
  };

  return { runtime, stats, handleUpgrade };
}

export type Gateway = ReturnType<typeof createGateway>;

/**
 * Same-origin requests are always ours, whatever name the instance is reached by (localhost, a LAN address).
 * Behind trusted proxies (the web tier forwards /graphql) the host the browser used is in X-Forwarded-Host.
 */
function sameOrigin(request: Request, origin: string, trustedHops: number): boolean {
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  const forwardedHost = trustedHops > 0 ? request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() : undefined;
  return originHost === (forwardedHost || request.headers.get('host'));
}

/**
 * The client's address. Each trusted proxy appends the address it saw to X-Forwarded-For, so with N trusted hops
 * the client is the N-th entry from the right; anything further left was written by the client and can be forged.
 */
function clientIp(request: Request, remote: string | undefined, trustedHops: number): string | null {
  if (trustedHops > 0) {
    const chain = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const forwarded = chain[chain.length - trustedHops];
    if (forwarded) return forwarded;
  }
  return remote ? remote.replace(/^::ffff:/, '') : null;
}
