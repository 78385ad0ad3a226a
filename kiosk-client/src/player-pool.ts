/**
 * The kiosk's players, keyed by player key (`camera/stream`, `camera/stream#n`): starts and
 * stops them as the {@link WarmthModel} says, and places each on its cell or off-screen.
 * Every player's element lives in one layer element for its whole life.
 */
import type { Rect } from '../../components/protocol/layout.ts';
import type { WarmthChanges } from './warmth.ts';
import { StreamPlayer } from './stream-player.ts';

/** Players by key, in one layer element. */
export class PlayerPool {
  private readonly players = new Map<string, StreamPlayer>();

  /** @param layer the element players are appended to (inside the wall, in the viewport) */
  constructor(private readonly layer: HTMLElement) {}

  /**
   * Applies warmth changes: players for `start` keys are created and connected (their URL
   * from `urls`; a key without one is skipped), players for `stop` keys are closed and
   * removed. Players that stay get the URL in `urls` for their next reconnect.
   */
  apply(changes: WarmthChanges, urls: ReadonlyMap<string, string>): void {
    for (const key of changes.stop) {
      this.players.get(key)?.stop();
      this.players.delete(key);
    }
    for (const [key, url] of urls) this.players.get(key)?.setUrl(url);
    for (const key of changes.start) {
      const url = urls.get(key);
      if (!url || this.players.has(key)) continue;
      const p = new StreamPlayer(key, url);
      this.players.set(key, p);
      this.layer.append(p.element);
      p.start();
    }
  }

  /**
   * Places the players: each key of `cellPlayers` (cell name → key) on that cell's rect
   * from `rects` (window px), every other player off-screen.
   */
  place(cellPlayers: ReadonlyMap<string, string>, rects: ReadonlyMap<string, Rect>): void {
    const shown = new Map<string, string>();
    for (const [cell, key] of cellPlayers) shown.set(key, cell);
    for (const [key, p] of this.players) {
      const cell = shown.get(key);
      const rect = cell === undefined ? undefined : rects.get(cell);
      p.place(rect ?? null, rect ? cell : undefined);
    }
  }

  /** The player of `key`, if it is not cold. */
  get(key: string): StreamPlayer | undefined { return this.players.get(key); }

  /** Every player, by key. */
  entries(): IterableIterator<[string, StreamPlayer]> { return this.players.entries(); }

  /** Stops every player. */
  clear(): void {
    for (const p of this.players.values()) p.stop();
    this.players.clear();
  }
}
