/**
 * Remembered subscription matches for aedes' message router.
 *
 * aedes routes every PUBLISH through mqemitter, whose Qlobber trie splits the topic into
 * levels and walks the trie each time (`Qlobber._split_words`, `_match`: ~7 % of the
 * broker's busy time in a CPU profile of the hub under `bench/broker.ts`). The matches of
 * a topic change only when a subscription is added or removed, which is rare next to
 * messages (a camera's frames go to the same topic 5–10 times a second). This keeps the
 * match list per topic and forgets all of them on any subscription change.
 */
import type { Aedes } from 'aedes';

/** Default largest number of topics remembered. */
export const DEFAULT_MAX_MATCH_TOPICS = 4096;

/** The parts of mqemitter 7's `_matcher` (a Qlobber 8) this module wraps. */
interface Matcher {
  match: (topic: string, ...rest: unknown[]) => unknown[];
  add: (...args: unknown[]) => unknown;
  remove: (...args: unknown[]) => unknown;
  clear: (...args: unknown[]) => unknown;
}

/**
 * Makes `aedes.mq`'s matcher remember the handlers matching each topic (at most
 * `maxTopics` topics; emptied when full and on every `add`, `remove` or `clear`). The
 * returned arrays are shared between messages: mqemitter and fastparallel only read them.
 * @returns false (and changes nothing) when `aedes.mq` is not an mqemitter with a Qlobber
 *   `_matcher` — a custom `mq`, or an aedes whose internals changed.
 */
export function cacheTopicMatches(aedes: Aedes, maxTopics = DEFAULT_MAX_MATCH_TOPICS): boolean {
  const m = (aedes as unknown as { mq?: { _matcher?: Partial<Matcher> } }).mq?._matcher;
  if (!m || typeof m.match !== 'function' || typeof m.add !== 'function' || typeof m.remove !== 'function' || typeof m.clear !== 'function') return false;
  const matcher = m as Matcher;
  const cache = new Map<string, unknown[]>();
  const match = matcher.match.bind(matcher);
  matcher.match = (topic: string, ...rest: unknown[]): unknown[] => {
    if (rest.length) return match(topic, ...rest); // a context argument: not cached
    let r = cache.get(topic);
    if (r === undefined) {
      r = match(topic);
      if (cache.size >= maxTopics) cache.clear();
      cache.set(topic, r);
    }
    return r;
  };
  for (const name of ['add', 'remove', 'clear'] as const) {
    const f = matcher[name].bind(matcher);
    matcher[name] = (...args: unknown[]): unknown => {
      cache.clear();
      return f(...args);
    };
  }
  return true;
}
