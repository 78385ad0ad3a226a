/**
 * Login throttling per client IP with rate-limiter-flexible: by default 1 attempt per
 * second, 5 per minute, 20 per hour (each window its own limiter; an attempt must fit
 * all three). A refused attempt says only when to retry — never whether the user exists.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface ThrottleLimits {
  per_second: number;
  per_minute: number;
  per_hour: number;
}

export class LoginThrottle {
  private readonly limiters: RateLimiterMemory[];

  constructor(limits: ThrottleLimits) {
    this.limiters = [
      new RateLimiterMemory({ keyPrefix: 'login_s', points: limits.per_second, duration: 1 }),
      new RateLimiterMemory({ keyPrefix: 'login_m', points: limits.per_minute, duration: 60 }),
      new RateLimiterMemory({ keyPrefix: 'login_h', points: limits.per_hour, duration: 3600 }),
    ];
  }

  /**
   * Takes one attempt for `ip`.
   * @returns null when allowed, else the seconds until a retry may succeed.
   */
  async take(ip: string): Promise<number | null> {
    let wait = 0;
    for (const l of this.limiters) {
      try {
        await l.consume(ip, 1);
      } catch (res) {
        if (res instanceof RateLimiterRes) wait = Math.max(wait, Math.ceil(res.msBeforeNext / 1000));
        else throw res;
      }
    }
    return wait > 0 ? wait : null;
  }
}
