import net from 'node:net';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1000 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Whether the distributed-mode suites can run. Under CI a missing PostgreSQL or Redis is an error, never a
 * silent skip; on a laptop without them those suites are skipped with a message saying why.
 */
export async function distributedServicesAvailable(): Promise<boolean> {
  const pg = new URL(PG_URL);
  const rd = new URL(REDIS_URL);
  const [pgOk, redisOk] = await Promise.all([reachable(pg.hostname, Number(pg.port || 5432)), reachable(rd.hostname, Number(rd.port || 6379))]);
  if (pgOk && redisOk) return true;
  const missing = [!pgOk && `PostgreSQL at ${pg.host}`, !redisOk && `Redis at ${rd.host}`].filter(Boolean).join(' and ');
  if (process.env.CI === 'true') throw new Error(`CI requires ${missing}: start it (see README, "Running the tests").`);
  console.warn(`[circles tests] ${missing} not reachable: distributed-mode tests are skipped on this machine.`);
  return false;
}
