import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { DocumentNode } from 'graphql';
import type { Kysely } from 'kysely';
import type { Config, ServiceName } from './config.ts';
import type { ServiceApis } from './contracts.ts';
import type { EventEnvelope } from './events/types.ts';
import type { Outbox } from './events/outbox.ts';
import type { Identity } from './identity.ts';
import type { Cache } from './infra/cache.ts';
import type { ObjectStore } from './infra/objects.ts';
import type { PubSub } from './infra/pubsub.ts';
import type { PresenceStore } from './infra/presence.ts';
import type { RateLimiterFactory } from './infra/ratelimit.ts';
import type { Logger } from './log.ts';
import type { Mailer } from './mail.ts';
import type { Migrations } from './migrate.ts';
import type { SessionManager } from './sessions.ts';
import type { UrlSigner } from './signed-urls.ts';

/** What a resolver knows about the request it serves. */
export interface RequestContext {
  identity: Identity;
  /** Asks the gateway to set or clear the browser session cookie on the client response. */
  sessionCookie: { set(token: string, expiresAt: number): void; clear(): void };
}

export type SessionCookieAction = { set: { token: string; expiresAt: number } } | { clear: true };

/** Everything a service may use. Implementations are chosen by configuration, never by the service. */
export interface ServiceDeps {
  config: Config;
  log: Logger;
  /** The whole database; a service touches only its own schema (see `ServiceDefinition.name`). */
  db: Kysely<any>;
  cache: Cache;
  pubsub: PubSub;
  /** Who is connected where (memory | Redis). */
  presence: PresenceStore;
  limits: RateLimiterFactory;
  sessions: SessionManager;
  outbox: Outbox;
  mailer: Mailer;
  /** Media bytes (local disk or S3). */
  objects: ObjectStore;
  /** Signs and checks short-lived URLs for files only some people may read. */
  urls: UrlSigner;
  /** Other services' typed APIs (cached where the contract says so), wherever those services run. */
  apis: ServiceApis;
}

export type Resolvers = GraphQLResolverMap<RequestContext>;
/** Runs inside the transaction that records the event as applied; may return work to run after commit. */
export type ServiceEventHandler = (event: EventEnvelope, trx: Kysely<any>) => Promise<void | (() => Promise<void>)>;

export interface ServiceInstance {
  resolvers: Resolvers;
  /** Topic -> handler. Each runs in a transaction together with its exactly-once bookkeeping. */
  eventHandlers?: Record<string, ServiceEventHandler>;
  /** This service's internal API (see contracts.ts), callable by other services in-process or over RPC. */
  api?: Record<string, (input: any) => Promise<unknown>>;
  /**
   * HTTP routes under this service's prefix (`serviceRoutes` in contracts.ts), reached through the gateway,
   * which has already resolved the caller: `identity` is verified here as for GraphQL.
   */
  http?: (request: Request, identity: Identity) => Promise<Response>;
  /**
   * A WebSocket endpoint at this service's socket path (`serviceSockets` in contracts.ts). The gateway has checked
   * the Origin and resolved the session; the service takes over the upgraded connection.
   */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, identity: Identity) => void;
  stop?(): Promise<void>;
}

/**
 * The contract every domain service fulfils: a library exporting its subgraph SDL, its own schema's migrations
 * and a factory for resolvers and event handlers. Where it runs (all-in-one or its own process) is the host's call.
 */
export interface ServiceDefinition {
  /** Also the PostgreSQL schema the service owns. */
  name: ServiceName;
  typeDefs: DocumentNode;
  migrations: Migrations;
  create(deps: ServiceDeps): ServiceInstance | Promise<ServiceInstance>;
}

export const defineService = (def: ServiceDefinition): ServiceDefinition => def;
