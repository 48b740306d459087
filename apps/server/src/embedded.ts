import { type ConfigInput, createLogger, type Database, type Infrastructure, loadConfig, type LogLevel, serviceNames } from '@circles/platform';
import { createServer } from 'node:net';
import { type Host, startHost } from './host.ts';

export interface StartOptions {
  dataDir: string;
  gatewayPort?: number;
  webPort?: number;
  /** Extra configuration as environment variables (e.g. { TRUST_PROXY: 'true' }). */
  env?: Record<string, string>;
  overrides?: Partial<ConfigInput>;
  web?: boolean;
  /** An already-open database (tests pass a PGlite cloned from a template, or a PostgreSQL test database). */
  database?: Database;
}

/** Starts the whole embedded platform in this process (tests and benchmarks). Port 0 picks a free port. */
export async function startCircles(
  opts: StartOptions,
): Promise<{ webUrl: string; gatewayUrl: string; host: Host; infra: Infrastructure; stop(): Promise<void> }> {
  const webPort = opts.webPort || (await freePort());
  const config = loadConfig(
    { CIRCLES_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...opts.env },
    {
      dataDir: opts.dataDir,
      gatewayPort: opts.gatewayPort ?? 0,
      webPort,
      publicUrl: `http://localhost:${webPort}`,
      host: '127.0.0.1',
      roles: opts.web === false ? ['gateway', ...serviceNames] : undefined,
      ...opts.overrides,
    },
  );
  const host = await startHost(config, createLogger(config.logLevel as LogLevel, { app: 'circles-test' }), { database: opts.database });
  const gatewayUrl = `http://127.0.0.1:${host.servers.gateway!.port}`;
  return {
    gatewayUrl,
    webUrl: host.servers.web ? `http://localhost:${host.servers.web.port}` : '',
    host,
    infra: host.infra!, // the embedded platform always runs services and the gateway
    stop: () => host.stop(),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
