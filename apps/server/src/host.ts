import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import {
  type ApiName,
  applyOnce,
  cachedCommunityApi,
  UrlSigner,
  handleRpc,
  rpcClient,
  RPC_SIGNATURE_HEADER,
  type ServiceApis,
  buildServiceSchema,
  type Config,
  type Database,
  createInfrastructure,
  createInProcessExecutor,
  createSubgraphHttpHandler,
  type Infrastructure,
  listen,
  type Logger,
  migrateSchema,
  Outbox,
  type RunningServer,
  type ServiceDefinition,
  type ServiceInstance,
  type ServiceName,
  serviceNames,
  type Subscription,
  IDENTITY_HEADER,
  serviceRoutes,
  serviceSockets,
  proxyUpgrade,
  refuseUpgrade,
  verifyIdentity,
} from '@circles/platform';
import { createGateway, type EdgeRoute, type Gateway, type InProcessExecutor, type SocketRoute } from '@circles/gateway';
import { sql } from 'kysely';
import { loadServices } from './registry.ts';
import { supergraphPath } from './paths.ts';

export interface Host {
  readonly config: Config;
  readonly gateway: Gateway | null;
  /** Null in a web-only process. */
  readonly infra: Infrastructure | null;
  /** Service APIs as the services in this process see them (null without services). */
  readonly apis: ServiceApis | null;
  readonly servers: Partial<Record<'gateway' | 'web' | 'service', RunningServer>>;
  stop(): Promise<void>;
}

/**
 * Runs any subset of Circles in this process, as config.roles says: every service plus gateway and web (the
 * embedded default), or a single service as its own subgraph process, or only the gateway, or only the web app.
 */
export async function startHost(config: Config, log: Logger, opts: { database?: Database } = {}): Promise<Host> {
  const started = Date.now();
  const serviceRoles = config.roles.filter((r): r is ServiceName => (serviceNames as readonly string[]).includes(r));
  // A web-only process keeps no state: it renders pages and forwards /graphql, so it needs no infrastructure.
  const needsInfra = serviceRoles.length > 0 || config.roles.includes('gateway');
  const webApp = config.roles.includes('web') ? prepareWeb(config) : null;
  webApp?.catch(() => {}); // awaited below; this only keeps an early failure elsewhere from leaving it unhandled
  const infra = needsInfra ? await createInfrastructure(config, log, { database: serviceRoles.length > 0 ? (opts.database ?? true) : false }) : null;
  const stoppers: (() => Promise<void>)[] = [];
  const servers: Host['servers'] = {};
  let gateway: Gateway | null = null;
  let apis: ServiceApis | null = null;

  try {
    if (infra) {
      const running = await startServices(await loadServices(serviceRoles), infra, config, log, stoppers);
      const { executors, subgraphs } = running;
      apis = running.apis;
      if (config.roles.includes('gateway')) {
        const supergraphSdl = readFileSync(supergraphPath, 'utf8');
        const embedded = serviceNames.every((s) => executors[s]);
        const gw = createGateway({
          supergraphSdl,
          config,
          sessions: infra.sessions,
          secret: infra.gatewaySecret,
          log,
          inProcess: embedded ? executors : undefined,
          routes: edgeRoutes(subgraphs, infra, config),
          sockets: socketRoutes(subgraphs, infra, config, log),
        });
        gateway = gw;
        const server = await listen(gw.runtime as unknown as http.RequestListener, config.gatewayPort, config.host);
        server.server.on('upgrade', gw.handleUpgrade);
        servers.gateway = server;
        stoppers.push(async () => {
          await server.close(config.shutdownGraceMs);
          await gw.runtime[Symbol.asyncDispose]();
        });
      } else if (subgraphs.length === 1) {
        // A service in its own process: its subgraph over HTTP, callable only by the gateway.
        const { name, schema, api, http: routes, upgrade } = subgraphs[0]!;
        const yoga = createSubgraphHttpHandler(schema, infra.gatewaySecret, log.child({ service: name }), { production: config.env === 'production' });
        const server = await listen(withInternalRoutes(yoga as unknown as http.RequestListener, infra, api ?? {}, log, routes), config.servicePort, config.host);
        // Its WebSocket, for upgrades the gateway forwards with a signed identity (nothing else gets in).
        server.server.on('upgrade', (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
          const header = req.headers[IDENTITY_HEADER];
          let identity;
          try {
            identity = verifyIdentity(infra.gatewaySecret, typeof header === 'string' ? header : null);
          } catch {
            return refuseUpgrade(socket, 401, 'GATEWAY_REQUIRED', 'Call this service through the gateway.');
          }
          if (!upgrade || (req.url ?? '').split('?')[0] !== serviceSockets[name as keyof typeof serviceSockets]) return refuseUpgrade(socket, 404, 'NOT_FOUND', 'No WebSocket endpoint here.');
          upgrade(req, socket, head, identity);
        });
        servers.service = server;
        stoppers.push(() => server.close(config.shutdownGraceMs));
      } else if (subgraphs.length > 1) {
        throw new Error('Run several services in one process together with the gateway (CIRCLES_ROLES must include "gateway").');
      }
    }

    if (config.roles.includes('web')) {
      const server = await serveWeb(config, await webApp!, gateway, log, servers.gateway?.port);
      servers.web = server;
      stoppers.push(() => server.close(config.shutdownGraceMs));
    }

    log.info('circles started', {
      roles: config.roles,
      database: infra?.database?.kind ?? 'none',
      infrastructure: !infra ? 'none' : config.redisUrl ? 'redis' : 'in-process',
      gateway: servers.gateway ? `http://localhost:${servers.gateway.port}/graphql` : undefined,
      web: servers.web ? `http://localhost:${servers.web.port}` : undefined,
      subgraph: servers.service ? `http://localhost:${servers.service.port}/graphql` : undefined,
      startupMs: Date.now() - started,
    });
  } catch (err) {
    await shutdown(stoppers, infra, log);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    gateway,
    apis,
    infra,
    servers,
    stop: () => (stopping ??= shutdown(stoppers, infra, log)),
  };
}

/** Per service: migrations, the instance, its outbox relay and event consumers, its subgraph schema. */
async function startServices(definitions: ServiceDefinition[], infra: Infrastructure, config: Config, log: Logger, stoppers: (() => Promise<void>)[]) {
  const executors: Record<string, InProcessExecutor> = {};
  const subgraphs: { name: string; schema: ReturnType<typeof buildServiceSchema>; api: ServiceInstance['api']; http: ServiceInstance['http']; upgrade: ServiceInstance['upgrade'] }[] = [];
  const localApis: Partial<Record<ApiName, NonNullable<ServiceInstance['api']>>> = {};
  const apis = serviceApis(localApis, infra, config);
  for (const def of definitions) {
    const db = infra.database!.db;
    const applied = await migrateSchema(db, def.name, def.migrations);
    if (applied.length) log.info('migrations applied', { service: def.name, migrations: applied });
    const outbox = new Outbox(def.name);
    const instance: ServiceInstance = await def.create({
      config,
      log: log.child({ service: def.name }),
      db,
      cache: infra.cache,
      pubsub: infra.pubsub,
      presence: infra.presence,
      limits: infra.limits,
      sessions: infra.sessions,
      outbox,
      mailer: infra.mailer!,
      objects: infra.objects,
      urls: new UrlSigner(infra.gatewaySecret),
      apis,
    });
    if (instance.api) localApis[def.name as ApiName] = instance.api;
    const relay = outbox.startRelay(db, infra.eventLog, log);
    stoppers.push(() => relay.stop());
    if (instance.stop) stoppers.push(() => instance.stop!());
    const handlers = instance.eventHandlers ?? {};
    if (Object.keys(handlers).length) {
      const sub: Subscription = await infra.eventLog.consume({
        consumer: def.name,
        topics: Object.keys(handlers),
        handler: applyOnce(db, def.name, def.name, (event, trx) => handlers[event.topic]!(event, trx)),
      });
      stoppers.push(() => sub.stop());
    }
    const schema = buildServiceSchema(def.typeDefs, instance.resolvers);
    subgraphs.push({ name: def.name, schema, api: instance.api, http: instance.http, upgrade: instance.upgrade });
    executors[def.name] = createInProcessExecutor(schema, infra.gatewaySecret, log.child({ service: def.name }));
  }
  return { executors, subgraphs, apis };
}

/**
 * Other services' APIs as a service sees them: a direct call when the provider runs in this process, a signed RPC
 * to its process otherwise (its address from SUBGRAPH_URLS). Decided per call, so creation order does not matter.
 */
function serviceApis(localApis: Partial<Record<ApiName, NonNullable<ServiceInstance['api']>>>, infra: Infrastructure, config: Config): ServiceApis {
  const resolve = <N extends ApiName>(name: N): ServiceApis[N] =>
    new Proxy({} as ServiceApis[N], {
      get: (_, method: string) => async (input: unknown) => {
        const local = localApis[name];
        if (local) return local[method]!(input);
        const url = config.subgraphUrls[name];
        if (!url) throw new Error(`The ${name} service is not running in this process and SUBGRAPH_URLS has no address for it.`);
        return (rpcClient<Record<string, (i: unknown) => Promise<unknown>>>(new URL('/', url).toString(), infra.gatewaySecret))[method]!(input);
      },
    });
  return { auth: resolve('auth'), community: cachedCommunityApi(resolve('community'), infra.cache), media: resolve('media'), posts: resolve('posts'), chat: resolve('chat') };
}

/** Order matters: HTTP first (in-flight requests finish), then consumers and relays, then stores. */
async function shutdown(stoppers: (() => Promise<void>)[], infra: Infrastructure | null, log: Logger) {
  const servers = stoppers.splice(0);
  // Servers were pushed after relays/consumers; stop in reverse order of start.
  for (const stop of servers.reverse()) {
    try {
      await stop();
    } catch (err) {
      log.error('error while stopping', { err });
    }
  }
  await infra?.close();
  log.info('circles stopped');
}

/**
 * A service process's own routes beside its subgraph: /healthz (alive), /readyz (its database answers) and
 * /internal/rpc/* (its typed API for other services, signed with the shared secret).
 */
function withInternalRoutes(
  handler: http.RequestListener,
  infra: Infrastructure,
  api: NonNullable<ServiceInstance['api']>,
  log: Logger,
  routes?: ServiceInstance['http'],
): http.RequestListener {
  const serveRoutes = routes ? nodeHandler(routes, infra.gatewaySecret, log) : null;
  const routePrefixes = Object.values(serviceRoutes);
  return (req, res) => {
    if (serveRoutes && routePrefixes.some((p) => req.url?.startsWith(p))) return serveRoutes(req, res);
    if (req.url?.startsWith('/internal/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const signature = req.headers[RPC_SIGNATURE_HEADER];
        handleRpc(api, infra.gatewaySecret, log, { method: req.method ?? 'GET', path: req.url!.split('?')[0]!, signature: typeof signature === 'string' ? signature : null, body: Buffer.concat(chunks).toString('utf8') }).then(
          (out) => res.writeHead(out?.status ?? 404, { 'content-type': 'application/json' }).end(out?.body ?? '{"error":{"code":"NOT_FOUND","message":"not found"}}'),
          (err) => {
            log.error('internal route failed', { err });
            res.writeHead(500).end();
          },
        );
      });
      return;
    }
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (req.url === '/readyz') {
      sql`select 1`
        .execute(infra.database!.db)
        .then(
          () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}'),
          () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"database unavailable"}'),
        );
      return;
    }
    handler(req, res);
  };
}

/**
 * The gateway's plain-HTTP routes (see `serviceRoutes`): called directly when the service runs here, forwarded
 * with the signed identity to the service's own process otherwise.
 */
function edgeRoutes(subgraphs: { name: string; http: ServiceInstance['http'] }[], infra: Infrastructure, config: Config): EdgeRoute[] {
  return (Object.entries(serviceRoutes) as [ApiName, string][]).flatMap(([name, prefix]): EdgeRoute[] => {
    const local = subgraphs.find((s) => s.name === name)?.http;
    if (local) return [{ prefix, forward: (request, signed) => local(request, verifyIdentity(infra.gatewaySecret, signed)) }];
    const url = config.subgraphUrls[name];
    if (!url) return [];
    const origin = new URL('/', url);
    return [
      {
        prefix,
        forward: async (request, signed) => {
          const target = new URL(request.url);
          const headers = new Headers({ [IDENTITY_HEADER]: signed });
          for (const h of ['content-type', 'content-length', 'if-none-match', 'range', 'stripe-signature']) {
            const v = request.headers.get(h);
            if (v) headers.set(h, v);
          }
          const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
          const upstream = await fetch(new URL(target.pathname + target.search, origin), {
            method: request.method,
            headers,
            body: hasBody ? request.body : undefined,
            ...(hasBody ? { duplex: 'half' } : {}),
          } as RequestInit);
          const out = new Headers(upstream.headers);
          out.delete('content-encoding');
          out.delete('transfer-encoding');
          return new Response(upstream.body, { status: upstream.status, headers: out });
        },
      },
    ];
  });
}

/** The gateway's WebSocket endpoints: taken here when the service runs in this process, forwarded to its process otherwise. */
function socketRoutes(subgraphs: { name: string; upgrade: ServiceInstance['upgrade'] }[], infra: Infrastructure, config: Config, log: Logger): SocketRoute[] {
  return (Object.entries(serviceSockets) as [ServiceName, string][]).flatMap(([name, path]): SocketRoute[] => {
    const local = subgraphs.find((s) => s.name === name)?.upgrade;
    if (local) return [{ path, upgrade: (req, socket, head, signed) => local(req, socket, head, verifyIdentity(infra.gatewaySecret, signed)) }];
    const url = config.subgraphUrls[name];
    if (!url) return [];
    return [{ path, upgrade: (req, socket, head, signed) => proxyUpgrade(req, socket, head, new URL('/', url), { [IDENTITY_HEADER]: signed }, (err) => log.warn('socket forward failed', { service: name, err })) }];
  });
}

/** Serves a service's fetch-style routes on a Node server, trusting only a gateway-signed identity. */
function nodeHandler(routes: NonNullable<ServiceInstance['http']>, secret: string, log: Logger): http.RequestListener {
  return async (req, res) => {
    try {
      let identity;
      try {
        const header = req.headers[IDENTITY_HEADER];
        identity = verifyIdentity(secret, typeof header === 'string' ? header : null);
      } catch {
        return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"GATEWAY_REQUIRED","message":"Call this service through the gateway."}}');
      }
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const request = new Request(new URL(req.url!, `http://${req.headers.host ?? 'localhost'}`), {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])),
        body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
        ...(hasBody ? { duplex: 'half' } : {}),
      } as RequestInit);
      const response = await routes(request, identity);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
    } catch (err) {
      log.error('service route failed', { err });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"INTERNAL","message":"Unexpected error."}}');
    }
  };
}

/** Loads the web app's production build. Started first thing, so it overlaps opening the database. */
async function prepareWeb(config: Config): Promise<http.RequestListener> {
  const webDir = new URL('../../web/', import.meta.url).pathname;
  const requireFromWeb = createRequire(webDir + 'package.json');
  const nextModule = requireFromWeb('next') as { default?: unknown } | ((o: unknown) => unknown);
  const createNext = (typeof nextModule === 'function' ? nextModule : (nextModule as { default: unknown }).default) as (o: object) => {
    prepare(): Promise<void>;
    getRequestHandler(): http.RequestListener;
  };
  const app = createNext({ dev: false, dir: webDir, hostname: 'localhost', port: config.webPort, quiet: true });
  try {
    await app.prepare();
  } catch (err) {
    throw new Error(`The web app has no production build (run "npm start", which builds it, or "npm run build -w @circles/web"): ${(err as Error).message}`);
  }
  return app.getRequestHandler();
}

/**
 * Serves the web app. `/graphql` on the web origin goes to the gateway, so the browser talks to one origin and
 * the session cookie stays first-party.
 */
async function serveWeb(config: Config, handle: http.RequestListener, gateway: Gateway | null, log: Logger, localGatewayPort?: number): Promise<RunningServer> {
  const gatewayUrl = config.gatewayUrl ?? `http://127.0.0.1:${localGatewayPort ?? config.gatewayPort}`;
  // Server components read it per request to call the gateway with the visitor's cookie.
  process.env.GATEWAY_URL = gatewayUrl;
  const forward = gateway ? (gateway.runtime as unknown as http.RequestListener) : proxyTo(gatewayUrl, log, Math.max(config.mediaMaxUploadBytes, config.mediaMaxFileBytes) + 1024 * 1024);
  const socketPaths = new Set(Object.values(serviceSockets));
  const server = await listen(
    (req, res) => {
      if (req.url === '/graphql' || req.url?.startsWith('/graphql?')) return forward(req, res);
      if (Object.values(serviceRoutes).some((p) => req.url?.startsWith(p))) return forward(req, res);
      if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return handle(req, res);
    },
    config.webPort,
    config.host,
  );
  // Chat sockets on the web origin go to the gateway like /graphql (same origin: the session cookie is first-party).
  server.server.on('upgrade', (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    if (!socketPaths.has((req.url ?? '').split('?')[0]!)) return refuseUpgrade(socket, 404, 'NOT_FOUND', 'No WebSocket endpoint here.');
    if (gateway) return gateway.handleUpgrade(req, socket, head);
    const prior = req.headers['x-forwarded-for'];
    proxyUpgrade(
      req,
      socket,
      head,
      new URL('/', gatewayUrl),
      {
        'x-forwarded-host': req.headers.host ?? '',
        'x-forwarded-for': [prior, req.socket.remoteAddress?.replace(/^::ffff:/, '')].filter(Boolean).join(', '),
      },
      (err) => log.warn('socket forward to the gateway failed', { err }),
    );
  });
  return server;
}

/** Forwards /graphql and services' routes (/media/) to a gateway in another process (distributed web tier). */
function proxyTo(gatewayUrl: string, log: Logger, maxBodyBytes: number): http.RequestListener {
  return async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        // Nothing the API accepts is this large: stop buffering and close the connection.
        if (size > maxBodyBytes) {
          return void res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request too large.' } }));
        }
        chunks.push(c as Buffer);
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === 'host' || k === 'connection' || k === 'content-length') continue;
        headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      headers.set('x-forwarded-host', req.headers.host ?? '');
      const prior = req.headers['x-forwarded-for'];
      headers.set('x-forwarded-for', [prior, req.socket.remoteAddress?.replace(/^::ffff:/, '')].filter(Boolean).join(', '));
      const upstream = await fetch(new URL(req.url!, gatewayUrl), {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
      });
      const out: Record<string, string | string[]> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== 'set-cookie' && k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding') out[k] = v;
      });
      const cookies = upstream.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies;
      res.writeHead(upstream.status, out).end(Buffer.from(await upstream.arrayBuffer()));
    } catch (err) {
      log.error('gateway proxy failed', { err });
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'The API is unavailable. Try again shortly.', extensions: { code: 'BAD_GATEWAY' } }] }));
    }
  };
}
