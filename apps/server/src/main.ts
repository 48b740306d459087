/**
 * Process entry point. With no configuration this is the embedded default: every service, the gateway
 * (http://localhost:4000/graphql) and the web app (http://localhost:3000) in one process on PGlite.
 */
import { ConfigError, createLogger, loadConfig } from '@circles/platform';
import { startHost } from './host.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const log = createLogger(config.logLevel, { app: 'circles', pid: process.pid });
let host;
try {
  host = await startHost(config, log);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  log.error('start-up failed', { err });
  process.exit(1);
}

if (host.servers.web || host.servers.gateway) {
  // One human-readable line for whoever ran `npm start`; everything else is JSON for machines.
  const parts = [host.servers.web && `web http://localhost:${host.servers.web.port}`, host.servers.gateway && `GraphQL http://localhost:${host.servers.gateway.port}/graphql`];
  process.stderr.write(`\nCircles is ready: ${parts.filter(Boolean).join(' · ')}  (data in ${config.dataDir}; Ctrl-C stops)\n\n`);
}

// A second signal forces the exit — but one Ctrl-C in a terminal reaches this process twice (from the terminal's
// process group and forwarded by `npm start`'s launcher), so signals within a second of the first count as one.
let firstSignalAt = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (firstSignalAt) {
      if (Date.now() - firstSignalAt > 1000) process.exit(130);
      return;
    }
    firstSignalAt = Date.now();
    log.info('shutting down', { signal });
    host.stop().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  });
}
