/**
 * Collects the keys asked for until the event loop turns and loads them in one call, so a page of 20 posts costs one reaction
 * query, not twenty. Results are memoised for the loader's life (one request).
 */
export function batcher<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, fallback: V): (key: K) => Promise<V> {
  const memo = new Map<K, Promise<V>>();
  let pending: { key: K; resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    load([...new Set(batch.map((b) => b.key))]).then(
      (found) => batch.forEach((b) => b.resolve(found.has(b.key) ? found.get(b.key)! : fallback)),
      (err) => batch.forEach((b) => b.reject(err)),
    );
  };
  return (key) => {
    const hit = memo.get(key);
    if (hit) return hit;
    const p = new Promise<V>((resolve, reject) => {
      if (!pending.length) setImmediate(flush);
      pending.push({ key, resolve, reject });
    });
    memo.set(key, p);
    return p;
  };
}

/** Memoises an async function by a string key for one request. */
export function memo<A extends unknown[], V>(fn: (...args: A) => Promise<V>, key: (...args: A) => string): (...args: A) => Promise<V> {
  const cache = new Map<string, Promise<V>>();
  return (...args) => {
    const k = key(...args);
    let p = cache.get(k);
    if (!p) {
      p = fn(...args);
      cache.set(k, p);
    }
    return p;
  };
}
