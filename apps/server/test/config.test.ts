import { ConfigError, loadConfig } from '@circles/platform';
import { describe, expect, it } from 'vitest';

describe('configuration', () => {
  it('defaults to the embedded all-in-one', () => {
    const c = loadConfig({});
    expect(c.roles).toEqual(['gateway', 'web', 'auth', 'community', 'media', 'posts', 'chat', 'payments']);
    expect(c.gatewayPort).toBe(4000);
    expect(c.webPort).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.mediaMaxUploadBytes).toBe(10 * 1024 * 1024);
    expect(c.mediaMaxFileBytes).toBe(25 * 1024 * 1024);
  });

  it.each([
    [{ GATEWAY_PORT: 'abc' }, 'GATEWAY_PORT'],
    [{ GATEWAY_PORT: '70000' }, 'GATEWAY_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ SESSION_IDLE_TIMEOUT: 'forever' }, 'SESSION_IDLE_TIMEOUT'],
    [{ CIRCLES_ROLES: 'gateway,bogus' }, 'CIRCLES_ROLES'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CIRCLES_ROLES: 'auth', DATABASE_URL: 'postgres://x/y' }, 'REDIS_URL'],
    [{ CIRCLES_ROLES: 'auth', REDIS_URL: 'redis://x' }, 'DATABASE_URL'],
    [{ CIRCLES_ROLES: 'media', REDIS_URL: 'redis://x', DATABASE_URL: 'postgres://x/y' }, 'S3_BUCKET'],
    [{ S3_BUCKET: 'No_Such' }, 'S3_BUCKET'],
    [{ GATEWAY_SECRET: 'short' }, 'GATEWAY_SECRET'],
    [{ MEDIA_MAX_FILE_BYTES: String(2 * 1024 ** 3) }, 'MEDIA_MAX_FILE_BYTES'],
    [{ MEDIA_MAX_FILE_BYTES: '25MB' }, 'MEDIA_MAX_FILE_BYTES'],
  ])('stops on a bad value and names it: %o', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${name}:`));
  });

  it('reads an optional JSON file, with the environment taking precedence', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/circles-config-');
    writeFileSync(`${dir}/c.json`, JSON.stringify({ gatewayPort: 5000, webPort: 5001 }));
    const c = loadConfig({ CIRCLES_CONFIG_FILE: `${dir}/c.json`, WEB_PORT: '6000' });
    expect(c.gatewayPort).toBe(5000);
    expect(c.webPort).toBe(6000);
    writeFileSync(`${dir}/bad.json`, JSON.stringify({ gatewayPrt: 1 }));
    expect(() => loadConfig({ CIRCLES_CONFIG_FILE: `${dir}/bad.json` })).toThrow(/unknown setting\(s\) gatewayPrt/);
  });
});
