import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * One typed configuration for every process. Sources, later wins: defaults, the JSON file named by
 * CIRCLES_CONFIG_FILE, environment variables. A bad value stops start-up with a message naming the variable.
 */
export const serviceNames = ['auth', 'community', 'media', 'posts', 'chat', 'payments'] as const;
export type ServiceName = (typeof serviceNames)[number];
export const roleNames = ['gateway', 'web', ...serviceNames] as const;
export type RoleName = (typeof roleNames)[number];

const duration = z
  .union([z.number().int().positive(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like 900s, 15m, 12h or 14d, got "${v}"` });
      return z.NEVER;
    }
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
    return Number(m[1]) * unit;
  });
const port = z.coerce.number().int().min(0).max(65535);
const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(z.enum(values)));
const urlMap = z
  .union([z.record(z.string(), z.string()), z.string()])
  .transform((v, ctx) => {
    if (typeof v !== 'string') return v;
    const out: Record<string, string> = {};
    for (const pair of v.split(',').map((x) => x.trim()).filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq < 1) {
        ctx.addIssue({ code: 'custom', message: `expected name=url pairs separated by commas, got "${pair}"` });
        return z.NEVER;
      }
      out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return out;
  })
  .pipe(z.record(z.string(), z.url()));

const schema = z.object({
  env: z.enum(['development', 'production', 'test']).default('development'),
  roles: list(roleNames).default([...roleNames]),
  dataDir: z.string().min(1).default('.data'),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').optional(),
  redisPrefix: z.string().regex(/^[\w:.-]*$/, 'letters, digits, _ : . - only').default('circles:'),
  host: z.string().min(1).default('0.0.0.0'),
  gatewayPort: port.default(4000),
  webPort: port.default(3000),
  servicePort: port.default(4001),
  publicUrl: z.url().default('http://localhost:3000'),
  /** Extra browser origins allowed to call the gateway (besides PUBLIC_URL's). */
  allowedOrigins: z
    .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(z.url().transform((u) => new URL(u).origin)))
    .default([]),
  gatewayUrl: z.url().optional(),
  subgraphUrls: urlMap.default({}),
  gatewaySecret: z.string().min(32, 'must be at least 32 characters').optional(),
  smtpUrl: z.string().regex(/^smtps?:\/\//, 'expected an smtp:// or smtps:// URL').optional(),
  mailFrom: z.string().min(3).default('Circles <no-reply@localhost>'),
  sessionIdleTimeout: duration.default(14 * 86_400_000),
  sessionAbsoluteTimeout: duration.default(60 * 86_400_000),
  // How many proxies in front of the gateway append to X-Forwarded-For (true = 1). 0: use the socket address.
  trustProxy: z
    .union([z.boolean(), z.number(), z.string()])
    .transform((v, ctx) => {
      if (v === true || v === 'true') return 1;
      if (v === false || v === 'false') return 0;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 10) {
        ctx.addIssue({ code: 'custom', message: `expected true, false or a number of proxy hops (0-10), got "${v}"` });
        return z.NEVER;
      }
      return n;
    })
    .default(0),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  graphqlMaxDepth: z.coerce.number().int().min(1).default(12),
  graphqlMaxAliases: z.coerce.number().int().min(1).default(30),
  graphqlMaxTokens: z.coerce.number().int().min(50).default(4000),
  graphqlMaxCost: z.coerce.number().int().min(1).default(10000),
  loginMaxFailuresPerAccountAndIp: z.coerce.number().int().min(1).default(5),
  loginMaxFailuresPerIp: z.coerce.number().int().min(1).default(100),
  loginMaxFailuresPerAccount: z.coerce.number().int().min(1).default(30),
  shutdownGraceMs: duration.default(10_000),
  /** Media goes to this S3-compatible bucket when set; otherwise to DATA_DIR/objects on local disk. */
  s3Bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)').optional(),
  s3Endpoint: z.url().optional(),
  s3Region: z.string().min(1).default('us-east-1'),
  s3AccessKeyId: z.string().min(1).optional(),
  s3SecretAccessKey: z.string().min(1).optional(),
  s3ForcePathStyle: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
  s3Prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'expected a key prefix ending in /, e.g. circles/').default(''),
  mediaMaxUploadBytes: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(10 * 1024 * 1024),
  /** Largest file attachment (POST /media/files); held in memory while it is checked and stored. */
  mediaMaxFileBytes: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(25 * 1024 * 1024),
  /** Chat: messages one channel accepts per 10 seconds, from everyone together (a flood of bots or a raid). */
  chatChannelRate: z.coerce.number().int().min(1).max(100_000).default(200),
  /** Chat: messages one member may send per 10 seconds across channels (typing fast is fine; a script is not). */
  chatMemberRate: z.coerce.number().int().min(1).max(100_000).default(20),
  /** Chat sockets: ping interval (a socket that missed the previous pong is dropped). */
  chatHeartbeatMs: z.coerce.number().int().min(100).max(300_000).default(25_000),
  /** Chat sockets: a client with more than this unsent is too slow and is closed (it reconnects and catches up). */
  chatMaxBufferedBytes: z.coerce.number().int().min(16 * 1024).max(256 * 1024 * 1024).default(1024 * 1024),
  /** Presence: how often a node refreshes its people; entries live CHAT_PRESENCE_TTL_MS without a refresh. */
  chatPresenceRefreshMs: z.coerce.number().int().min(100).max(300_000).default(10_000),
  chatPresenceTtlMs: z.coerce.number().int().min(300).max(900_000).default(30_000),
  /** Chat sockets: channel events for a socket are gathered this long and written together (0: each at once). */
  chatFlushMs: z.coerce.number().int().min(0).max(1_000).default(40),
  /** Payments: Stripe's secret key. Without it the built-in test-payments provider runs (no real money). */
  stripeSecretKey: z.string().regex(/^(sk|rk)_(test|live)_\w+$/, 'expected a Stripe secret key (sk_test_..., sk_live_... or a restricted rk_ key)').optional(),
  /** Payments: the signing secret of the Stripe webhook endpoint (/payments/webhooks/stripe). */
  stripeWebhookSecret: z.string().regex(/^whsec_\w+$/, 'expected a webhook signing secret (whsec_...)').optional(),
  /** Payments: where Stripe's API is (tests point it at a local server that speaks the protocol). */
  stripeApiBase: z.url().default('https://api.stripe.com'),
  /** Payments: the Stripe API version every call pins (the object shapes the adapter reads). */
  stripeApiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(\.\w+)?$/, 'expected a Stripe API version like 2025-03-31.basil').default('2025-03-31.basil'),
  /** Payments: the platform's share of every charge, in percent (0 for none), kept through Connect application fees. */
  paymentsPlatformFeePercent: z.coerce.number().min(0).max(50).default(5),
  /** Payments: days a subscription whose renewal failed keeps access while the provider retries. */
  paymentsGraceDays: z.coerce.number().int().min(0).max(60).default(3),
  /** Payments: the version of the terms buyers accept at checkout (shown in dispute evidence). */
  paymentsTermsVersion: z.string().min(1).max(100).default('1'),
});

export type Config = z.output<typeof schema>;
export type ConfigInput = z.input<typeof schema>;

/** Environment variable for each key: the names operators type. */
export const envNames: Record<keyof Config, string> = {
  env: 'CIRCLES_ENV',
  roles: 'CIRCLES_ROLES',
  dataDir: 'DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  redisPrefix: 'REDIS_PREFIX',
  host: 'HOST',
  gatewayPort: 'GATEWAY_PORT',
  webPort: 'WEB_PORT',
  servicePort: 'SERVICE_PORT',
  publicUrl: 'PUBLIC_URL',
  allowedOrigins: 'ALLOWED_ORIGINS',
  gatewayUrl: 'GATEWAY_URL',
  subgraphUrls: 'SUBGRAPH_URLS',
  gatewaySecret: 'GATEWAY_SECRET',
  smtpUrl: 'SMTP_URL',
  mailFrom: 'MAIL_FROM',
  sessionIdleTimeout: 'SESSION_IDLE_TIMEOUT',
  sessionAbsoluteTimeout: 'SESSION_ABSOLUTE_TIMEOUT',
  trustProxy: 'TRUST_PROXY',
  logLevel: 'LOG_LEVEL',
  graphqlMaxDepth: 'GRAPHQL_MAX_DEPTH',
  graphqlMaxAliases: 'GRAPHQL_MAX_ALIASES',
  graphqlMaxTokens: 'GRAPHQL_MAX_TOKENS',
  graphqlMaxCost: 'GRAPHQL_MAX_COST',
  loginMaxFailuresPerAccountAndIp: 'LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP',
  loginMaxFailuresPerIp: 'LOGIN_MAX_FAILURES_PER_IP',
  loginMaxFailuresPerAccount: 'LOGIN_MAX_FAILURES_PER_ACCOUNT',
  shutdownGraceMs: 'SHUTDOWN_GRACE',
  s3Bucket: 'S3_BUCKET',
  s3Endpoint: 'S3_ENDPOINT',
  s3Region: 'S3_REGION',
  s3AccessKeyId: 'S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'S3_SECRET_ACCESS_KEY',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  s3Prefix: 'S3_PREFIX',
  mediaMaxUploadBytes: 'MEDIA_MAX_UPLOAD_BYTES',
  mediaMaxFileBytes: 'MEDIA_MAX_FILE_BYTES',
  chatChannelRate: 'CHAT_CHANNEL_RATE',
  chatMemberRate: 'CHAT_MEMBER_RATE',
  chatHeartbeatMs: 'CHAT_HEARTBEAT_MS',
  chatMaxBufferedBytes: 'CHAT_MAX_BUFFERED_BYTES',
  chatPresenceRefreshMs: 'CHAT_PRESENCE_REFRESH_MS',
  chatPresenceTtlMs: 'CHAT_PRESENCE_TTL_MS',
  chatFlushMs: 'CHAT_FLUSH_MS',
  stripeSecretKey: 'STRIPE_SECRET_KEY',
  stripeWebhookSecret: 'STRIPE_WEBHOOK_SECRET',
  stripeApiBase: 'STRIPE_API_BASE',
  stripeApiVersion: 'STRIPE_API_VERSION',
  paymentsPlatformFeePercent: 'PAYMENTS_PLATFORM_FEE_PERCENT',
  paymentsGraceDays: 'PAYMENTS_GRACE_DAYS',
  paymentsTermsVersion: 'PAYMENTS_TERMS_VERSION',
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<ConfigInput> = {},
): Config {
  let fileValues: Record<string, unknown> = {};
  const file = env.CIRCLES_CONFIG_FILE;
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`CIRCLES_CONFIG_FILE: cannot read ${file} as JSON (${(err as Error).message})`);
    }
    const unknownKeys = Object.keys(fileValues).filter((k) => !(k in envNames));
    if (unknownKeys.length) throw new ConfigError(`${file}: unknown setting(s) ${unknownKeys.join(', ')}`);
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(envNames)) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = v;
  }
  if (!fromEnv.env && env.NODE_ENV === 'production') fromEnv.env = 'production';
  const parsed = schema.safeParse({ ...fileValues, ...fromEnv, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const name = envNames[key as keyof Config] ?? key;
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  config.dataDir = path.resolve(config.dataDir);
  if (config.sessionIdleTimeout > config.sessionAbsoluteTimeout) {
    throw new ConfigError('Invalid configuration:\n  SESSION_IDLE_TIMEOUT: must not exceed SESSION_ABSOLUTE_TIMEOUT');
  }
  if (config.chatPresenceTtlMs < 2 * config.chatPresenceRefreshMs) {
    throw new ConfigError('Invalid configuration:\n  CHAT_PRESENCE_TTL_MS: must be at least twice CHAT_PRESENCE_REFRESH_MS (or people flicker offline between refreshes)');
  }
  if (config.stripeSecretKey && !config.stripeWebhookSecret) {
    throw new ConfigError('Invalid configuration:\n  STRIPE_WEBHOOK_SECRET: required with STRIPE_SECRET_KEY (webhooks are how payments learn what happened)');
  }
  const runsServices = config.roles.some((r) => (serviceNames as readonly string[]).includes(r));
  if (isDistributed(config) && (runsServices || config.roles.includes('gateway'))) {
    if (!config.redisUrl) {
      throw new ConfigError('Invalid configuration:\n  REDIS_URL: required when services run in separate processes (sessions, rate limits and events are shared through Redis)');
    }
    if (runsServices && !config.databaseUrl) {
      throw new ConfigError('Invalid configuration:\n  DATABASE_URL: required when services run in separate processes (the embedded database belongs to one process)');
    }
    if (config.roles.includes('media') && !config.s3Bucket) {
      throw new ConfigError('Invalid configuration:\n  S3_BUCKET: required when the media service runs in its own process (replicas share media through an S3-compatible store)');
    }
  }
  return config;
}

/** True when this process is one part of a distributed deployment rather than the embedded all-in-one. */
export const isDistributed = (config: Config): boolean =>
  !(serviceNames.every((s) => config.roles.includes(s)) && config.roles.includes('gateway'));
