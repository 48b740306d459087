import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../src/log.ts';

/** A short unique id for names that must not collide between runs or parallel test files. */
export const runId = (): string => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Only errors reach the test output: warnings are expected where tests make handlers fail on purpose. */
export const quietLogger = (): Logger => createLogger('error', { test: true }, (line) => process.stderr.write(`${line}\n`));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `condition` holds; time-based tests wait for an outcome instead of sleeping a guessed amount. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Removes every key a test run created under its prefix. */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
