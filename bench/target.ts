/**
 * The system under load for the `me` throughput benchmark. It runs in its own process so the load generator does
 * not share (and slow down) its event loop: the embedded platform (gateway + auth subgraph in-process) and, beside
 * it, the same auth subgraph served directly over HTTP on the same database and infrastructure.
 *
 * Usage: node --import tsx bench/target.ts <dataDir>, with an IPC channel. Sends one `TargetInfo` message when
 * ready, stops when the parent disconnects.
 */
import type http from 'node:http';
import {
  buildServiceSchema,
  createLogger,
  createSubgraphHttpHandler,
  listen,
  loadConfig,
  Outbox,
  serviceNames,
  UrlSigner,
} from '@circles/platform';
import { startCircles } from '@circles/server/embedded';
import { loadServices } from '@circles/server/registry';

export interface TargetInfo {
  gatewayUrl: string;
  directUrl: string;
  /** Bearer token for the gateway. */
  token: string;
  /** The gateway secret, so the load generator can sign identities for the direct subgraph as the gateway would. */
  secret: string;
  userId: string;
  sessionId: string;
}

const dataDir = process.argv[2];
if (!dataDir || !process.send) throw new Error('usage: fork bench/target.ts <dataDir> with an IPC channel');

const circles = await startCircles({ dataDir, web: false });
const { infra } = circles;

// A second auth instance built the way apps/server/src/host.ts builds one, minus the outbox relay and event
// consumers (the embedded host already runs those; `me` needs neither).
const config = loadConfig({ CIRCLES_ENV: 'test', LOG_LEVEL: 'warn' }, { dataDir, host: '127.0.0.1', roles: ['gateway', ...serviceNames] });
const log = createLogger('warn', { app: 'circles-bench', service: 'auth' });
const [auth] = await loadServices(['auth']);
const instance = await auth!.create({
  config,
  log,
  db: infra.database!.db,
  cache: infra.cache,
  pubsub: infra.pubsub,
  presence: infra.presence,
  limits: infra.limits,
  objects: infra.objects,
  urls: new UrlSigner(infra.gatewaySecret),
  sessions: infra.sessions,
  outbox: new Outbox('auth'),
  mailer: infra.mailer!,
  apis: circles.host.apis!,
});
const schema = buildServiceSchema(auth!.typeDefs, instance.resolvers);
const handler = createSubgraphHttpHandler(schema, infra.gatewaySecret, log, { production: false });
const direct = await listen(handler as unknown as http.RequestListener, 0, '127.0.0.1');

// One user, signed up through the gateway like any client.
const res = await fetch(`${circles.gatewayUrl}/graphql`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    query: 'mutation ($input: SignUpInput!) { signUp(input: $input) { token } }',
    variables: { input: { email: 'bench@example.com', password: 'violet-kettle-sunrise-42', handle: 'bench', displayName: 'Bench', delivery: 'BEARER' } },
  }),
});
const body = (await res.json()) as { data?: { signUp?: { token: string } }; errors?: unknown };
const token = body.data?.signUp?.token;
if (!token) throw new Error(`signUp failed: ${JSON.stringify(body)}`);
const session = await infra.sessions.resolve(token);
if (!session) throw new Error('the new session does not resolve');

const info: TargetInfo = {
  gatewayUrl: circles.gatewayUrl,
  directUrl: `http://127.0.0.1:${direct.port}`,
  token,
  secret: infra.gatewaySecret,
  userId: session.userId,
  sessionId: session.id,
};
process.send(info);

process.once('disconnect', async () => {
  await direct.close(0);
  await circles.stop();
  process.exit(0);
});
