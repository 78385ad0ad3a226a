/**
 * The heart of the kiosk: applies each bundle through BetterFrame's warmth model. On a
 * bundle: plan it ({@link planWall}), `WarmthModel.activate(visible, warm, cooling timeout)`,
 * start the players that were cold, stop the ones that turned cold, place hot players on
 * their cells and every other player off-screen (still decoding), and time the switch
 * until every camera cell has a frame. A 1 s tick turns cooling streams cold.
 */
import type { Bundle, BundleCell, Rect } from '../../components/protocol/layout.ts';
import { PlayerPool } from './player-pool.ts';
import { measurePaint, type SwitchRecord } from './switch-timer.ts';
import { fitScale, planWall, scaleRect, type WallPlan } from './wall-plan.ts';
import { WarmthModel } from './warmth.ts';

/** A bundle cell with its rectangle in window px (what `<vigil-wall>` renders). */
export type PlacedCell = BundleCell & { screen: Rect };

/** Callbacks of a {@link WallController}. */
export interface WallHandlers {
  /** The cells to render changed (new bundle or window size). */
  onCells: (cells: PlacedCell[]) => void;
  /** A switch began (`painted_ms` null) or finished painting. */
  onSwitch: (s: SwitchRecord) => void;
}

/** Seconds between warmth ticks (cooling → cold). */
const TICK_MS = 1_000;

/** Applies bundles to the wall. */
export class WallController {
  /** The layer the players live in; render it once inside the wall, in the viewport. */
  readonly layer: HTMLDivElement;
  private readonly warmth = new WarmthModel(() => performance.now());
  private readonly pool: PlayerPool;
  private current: { bundle: Bundle; plan: WallPlan } | null = null;
  private last: SwitchRecord | null = null;
  private generation = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly onResize = (): void => this.relayout();

  constructor(private readonly h: WallHandlers) {
    this.layer = document.createElement('div');
    this.layer.dataset.layer = 'players';
    this.pool = new PlayerPool(this.layer);
    this.timer = setInterval(() => this.pool.apply(this.warmth.tick(), new Map()), TICK_MS);
    addEventListener('resize', this.onResize);
  }

  /** The bundle on screen, or null. */
  get bundle(): Bundle | null { return this.current?.bundle ?? null; }
  /** The latest switch, or null. */
  get lastSwitch(): SwitchRecord | null { return this.last; }
  /** Warmth of every stream that is not cold, by player key. */
  warmthSnapshot(): ReturnType<WarmthModel['snapshot']> { return this.warmth.snapshot(); }
  /** The players, by key. */
  players(): PlayerPool { return this.pool; }
  /** The player key shown in cell `name`, if it is a camera cell. */
  cellPlayer(name: string): string | undefined { return this.current?.plan.cellPlayers.get(name); }

  /**
   * Shows `bundle`. The same layout, `seq` and warm set again (a retained re-delivery after
   * a reconnect, or the hub's re-issue with fresh tokens) only refreshes stream URLs.
   * @param receivedAt Unix ms of arrival; `receivedPerf` the same moment on `performance.now()`
   */
  show(bundle: Bundle, receivedAt = Date.now(), receivedPerf = performance.now()): void {
    const plan = planWall(bundle);
    // A re-issue with the same warm set (fresh tokens) changes nothing on screen; a changed
    // warm set (a priority-hot layout was edited) is applied as an activation.
    const sameWarm = (a: string[], b: string[]) => a.length === b.length && a.every((k) => b.includes(k));
    const again = this.current && this.current.bundle.layout === bundle.layout && this.current.bundle.seq === bundle.seq && sameWarm(this.current.plan.warm, plan.warm);
    const changes = again ? { start: [], stop: [] } : this.warmth.activate(plan.visible, plan.warm, bundle.cooling_timeout_seconds);
    this.pool.apply(changes, plan.urls);
    if (again) return;
    this.current = { bundle, plan };
    this.relayout();
    const record: SwitchRecord = { layout: bundle.layout, seq: bundle.seq, received_at: receivedAt, painted_ms: null };
    this.last = record;
    const gen = ++this.generation;
    this.h.onSwitch(record);
    const cams = plan.visible.map((k) => this.pool.get(k)).filter((p) => p !== undefined);
    void measurePaint(cams, receivedPerf).then((ms) => {
      if (gen !== this.generation) return; // a newer switch replaced this one
      record.painted_ms = ms;
      this.h.onSwitch(record);
    });
  }

  /**
   * Shows nothing (the display's layout was cleared: an empty retained bundle). The
   * streams cool for the timeout of the layout being left, as on any switch.
   */
  clear(): void {
    if (!this.current) return;
    this.current = null;
    this.generation++;
    this.pool.apply(this.warmth.activate([], [], 0), new Map());
    this.pool.place(new Map(), new Map());
    this.h.onCells([]);
  }

  /** Scales the cells to the window again and places the players. */
  relayout(): void {
    if (!this.current) return;
    const { bundle, plan } = this.current;
    const scale = fitScale(bundle, { width: innerWidth || bundle.width, height: innerHeight || bundle.height });
    const cells: PlacedCell[] = bundle.cells.map((c) => ({ ...c, screen: scaleRect(c.rect, scale) }));
    this.pool.place(plan.cellPlayers, new Map(cells.map((c) => [c.name, c.screen])));
    this.h.onCells(cells);
  }

  /** Stops every player and the tick. */
  dispose(): void {
    clearInterval(this.timer);
    removeEventListener('resize', this.onResize);
    this.generation++;
    this.pool.clear();
  }
}
