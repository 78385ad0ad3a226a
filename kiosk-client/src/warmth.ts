/**
 * BetterFrame's stream warmth model (seed: "Stream warmth model"), pure and clock-driven
 * so it runs the same in the kiosk page and in unit tests.
 *
 * Each stream (`camera/stream`) is:
 * | state   | connection open | decoding | visible | promote cost |
 * |---------|-----------------|----------|---------|--------------|
 * | hot     | yes             | yes      | yes     | 0            |
 * | warm    | yes             | yes      | no      | ~1 frame     |
 * | cooling | yes             | yes      | no      | 0            |
 * | cold    | no              | no       | no      | 1–3 s        |
 *
 * On every activation: warm set = streams of the active layout ∪ its preload list ∪ streams
 * of priority-hot layouts ∪ streams still cooling. Streams leaving the set start cooling
 * (for the cooling timeout of the layout being left) and turn cold when it runs out.
 */

/** A stream's warmth (the table above). */
export type Warmth = 'hot' | 'warm' | 'cooling' | 'cold';

/** What {@link WarmthModel.activate} and {@link WarmthModel.tick} ask the player pool to do. */
export interface WarmthChanges {
  /** Streams to open (they were cold). */
  start: string[];
  /** Streams to close (they turned cold). */
  stop: string[];
}

interface Entry { state: Exclude<Warmth, 'cold'>; coolUntil?: number }

/**
 * The warmth of every stream a kiosk knows, keyed by player key (`camera/stream`). It only
 * computes: {@link activate} and {@link tick} return which players to start and stop.
 */
export class WarmthModel {
  private readonly entries = new Map<string, Entry>();
  private coolingMs = 0;

  /** @param now clock, ms (`performance.now` in the page). */
  constructor(private readonly now: () => number = () => Date.now()) {}

  /**
   * Applies an activation.
   * @param visible streams the new layout shows (become hot)
   * @param warm its preload list and the priority-hot layouts' streams (become warm)
   * @param coolingTimeoutS the new layout's `cooling_timeout_seconds`; streams leaving
   *   the set now cool for the timeout of the layout being left.
   */
  activate(visible: string[], warm: string[], coolingTimeoutS: number): WarmthChanges {
    const t = this.now();
    const start: string[] = [];
    const next = new Map<string, Entry>();
    for (const k of visible) next.set(k, { state: 'hot' });
    for (const k of warm) if (!next.has(k)) next.set(k, { state: 'warm' });
    for (const [k, e] of this.entries) {
      if (next.has(k)) continue;
      // Left the set: cooling keeps its deadline; hot and warm start cooling now.
      next.set(k, { state: 'cooling', coolUntil: e.state === 'cooling' ? e.coolUntil : t + this.coolingMs });
    }
    for (const k of next.keys()) if (!this.entries.has(k)) start.push(k);
    this.entries.clear();
    for (const [k, e] of next) this.entries.set(k, e);
    this.coolingMs = coolingTimeoutS * 1000;
    return { start, ...this.expire(t) };
  }

  /** Turns streams whose cooling ran out cold. Call every second or so. */
  tick(): WarmthChanges {
    return { start: [], ...this.expire(this.now()) };
  }

  /** The warmth of `key` (`cold` when unknown). */
  state(key: string): Warmth {
    return this.entries.get(key)?.state ?? 'cold';
  }

  /** Every stream that is not cold, with its warmth. */
  snapshot(): Record<string, Warmth> {
    return Object.fromEntries([...this.entries].map(([k, e]) => [k, e.state]));
  }

  private expire(t: number): { stop: string[] } {
    const stop: string[] = [];
    for (const [k, e] of this.entries) {
      if (e.state === 'cooling' && (e.coolUntil ?? 0) <= t) {
        this.entries.delete(k);
        stop.push(k);
      }
    }
    return { stop };
  }
}
