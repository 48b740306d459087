import type { Logger } from '../log.ts';
import type { ConsumeOptions, EventEnvelope } from './types.ts';

/** Waits up to `ms`, returning early when `register`'s callback fires or `isStopped` says so. */
export function sleepUntil(ms: number, register: (resume: () => void) => void, isStopped: () => boolean): Promise<void> {
  if (isStopped()) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      register(() => {});
      resolve();
    }
    register(done);
  });
}

/** Runs a handler with exponential backoff; after maxAttempts the caller parks the event. */
export async function runWithRetries(
  opts: ConsumeOptions,
  event: EventEnvelope,
  log: Logger,
): Promise<{ handled: true } | { handled: false; error: string }> {
  const max = opts.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      await opts.handler(event);
      return { handled: true };
    } catch (err) {
      log.warn('event handler failed', { consumer: opts.consumer, topic: event.topic, eventId: event.id, attempt, err });
      if (attempt >= max) return { handled: false, error: String((err as Error)?.message ?? err) };
      await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)));
    }
  }
}
