import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimitPolicy {
  /** Unique name; becomes the key prefix. */
  name: string;
  /** Points allowed per window. */
  points: number;
  windowMs: number;
  /** Once exceeded, block the key this long (defaults to the rest of the window). */
  blockMs?: number;
}

export interface LimitState {
  allowed: boolean;
  remaining: number;
  /** How long until the key may try again (0 when allowed). */
  retryAfterMs: number;
}

export interface Limiter {
  readonly policy: LimitPolicy;
  /** Spends points; the returned state says whether the action may go ahead. */
  consume(key: string, points?: number): Promise<LimitState>;
  /** Reads without spending. */
  peek(key: string): Promise<LimitState>;
  reset(key: string): Promise<void>;
}

export interface RateLimiterFactory {
  limiter(policy: LimitPolicy): Limiter;
}

class FlexibleLimiter implements Limiter {
  constructor(
    readonly policy: LimitPolicy,
    private readonly impl: RateLimiterAbstract,
  ) {}

  async consume(key: string, points = 1): Promise<LimitState> {
    try {
      const res = await this.impl.consume(key, points);
      return { allowed: true, remaining: res.remainingPoints, retryAfterMs: 0 };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, err.msBeforeNext) };
      throw err;
    }
  }

  async peek(key: string): Promise<LimitState> {
    const res = await this.impl.get(key);
    if (!res) return { allowed: true, remaining: this.policy.points, retryAfterMs: 0 };
    const blocked = res.consumedPoints > this.policy.points;
    const exhausted = res.consumedPoints >= this.policy.points;
    return {
      allowed: !blocked && !exhausted,
      remaining: Math.max(0, this.policy.points - res.consumedPoints),
      retryAfterMs: blocked || exhausted ? Math.max(1, res.msBeforeNext) : 0,
    };
  }

  async reset(key: string): Promise<void> {
    await this.impl.delete(key);
  }
}

const toOptions = (p: LimitPolicy, prefix = 'circles:rl:') => ({
  keyPrefix: `${prefix}${p.name}`,
  points: p.points,
  duration: Math.max(1, Math.ceil(p.windowMs / 1000)),
  blockDuration: p.blockMs ? Math.ceil(p.blockMs / 1000) : 0,
});

export class MemoryRateLimiterFactory implements RateLimiterFactory {
  limiter(policy: LimitPolicy): Limiter {
    return new FlexibleLimiter(policy, new RateLimiterMemory(toOptions(policy)));
  }
}

export class RedisRateLimiterFactory implements RateLimiterFactory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'circles:rl:',
  ) {}
  limiter(policy: LimitPolicy): Limiter {
    return new FlexibleLimiter(policy, new RateLimiterRedis({ ...toOptions(policy, this.prefix), storeClient: this.redis }));
  }
}
