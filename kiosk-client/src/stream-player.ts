/**
 * A player: one `<video muted autoplay playsinline>` fed by {@link MseFeed}, with its "no
 * signal" label, retries with backoff, and its placement on the wall. The element is created
 * once and never moved in the DOM: switching layouts only restyles it, so a warm player
 * (decoding off-screen) shows its current frame in the first paint after a switch.
 *
 * Placement: `hot` = absolutely positioned on its cell (window px, above the cells);
 * `off` = opacity 0, 32×18 px at the top-left, behind the cells — still rendered and in the
 * viewport, because Chromium may stop decoding `display:none`, detached, `visibility:hidden`
 * or off-viewport videos. Colours come from CSS custom properties
 * (`--vigil-nosignal-color`, `--vigil-nosignal-bg`, `--vigil-cell-bg`).
 */
import { MseFeed, type FeedEnd } from './mse-feed.ts';
import type { Rect } from '../../components/protocol/layout.ts';

/** Where a player stands: `connecting` (first attempt), `live` (has a frame), `no-signal` (failed, retrying). */
export type PlayerStatus = 'connecting' | 'live' | 'no-signal';

/** First retry delay, ms; doubles up to {@link RETRY_MAX_MS}. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;
/** z-index of a shown player (cells are 1) and of an off-screen one. */
const Z_HOT = '2', Z_OFF = '0';

/** Decoded and dropped frame counters of the video (`getVideoPlaybackQuality`). */
export interface FrameCounts { total: number; dropped: number }

/** One stream's player. */
export class StreamPlayer {
  /** The wrapper (video + label) to put once into the wall's player layer. */
  readonly element: HTMLDivElement;
  readonly video: HTMLVideoElement;
  private readonly label: HTMLDivElement;
  private feed: MseFeed | null = null;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private _status: PlayerStatus = 'connecting';
  private frameWaiters: Array<() => void> = [];
  /** Why the last attempt ended (for diagnostics), or null. */
  lastError: string | null = null;

  /**
   * @param key the player key (`camera/stream`, or `camera/stream#n` for a repeated cell)
   * @param url stream URL relative to the page; {@link setUrl} replaces it for later retries
   */
  constructor(readonly key: string, private url: string) {
    this.element = document.createElement('div');
    this.element.dataset.player = key;
    this.video = document.createElement('video');
    this.video.muted = this.video.defaultMuted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.disablePictureInPicture = true;
    this.video.style.cssText = 'position:absolute;inset:0;width:100%;height:100%;object-fit:contain;background:transparent';
    this.label = document.createElement('div');
    this.label.style.cssText = 'position:absolute;inset:0;display:flex;flex-direction:column;align-items:center;justify-content:center;'
      + 'font:600 clamp(9px,7cqmin,56px)/1.3 system-ui,sans-serif;letter-spacing:.08em;text-align:center;pointer-events:none';
    this.element.append(this.video, this.label);
    this.place(null);
    for (const ev of ['loadeddata', 'timeupdate', 'playing'] as const) this.video.addEventListener(ev, () => this.checkFrame());
    this.render();
  }

  /** Current status. */
  get status(): PlayerStatus { return this._status; }

  /** True when the video holds a decoded frame (`readyState` ≥ HAVE_CURRENT_DATA). */
  hasFrame(): boolean { return this.video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA; }

  /**
   * Resolves once the video has a decoded frame: at once if it has one, else on the first
   * `requestVideoFrameCallback` (where available) or `loadeddata`/`timeupdate` with
   * `readyState` ≥ 2. Never rejects; pending waits resolve when the player stops.
   */
  whenFrame(): Promise<void> {
    if (this.hasFrame()) return Promise.resolve();
    return new Promise((resolve) => {
      this.frameWaiters.push(resolve);
      this.video.requestVideoFrameCallback?.(() => this.checkFrame(true));
    });
  }

  /** Opens the stream (first attempt). */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the stream, releases the decoder and removes the element. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.feed?.close();
    this.feed = null;
    this.element.remove();
    this.flushWaiters();
  }

  /** Uses `url` (e.g. with a fresh media token) from the next (re)connect on. */
  setUrl(url: string): void { this.url = url; }

  /**
   * Shows the player on `rect` (window px) in cell `cell`, or hides it off-screen (`null`)
   * while it keeps decoding.
   */
  place(rect: Rect | null, cell?: string): void {
    const s = this.element.style;
    s.position = 'absolute';
    s.pointerEvents = 'none';
    s.containerType = 'size'; // the label scales with the cell (cqmin)
    s.background = rect ? 'var(--vigil-cell-bg,#000)' : 'transparent';
    s.opacity = rect ? '1' : '0';
    s.zIndex = rect ? Z_HOT : Z_OFF;
    s.left = `${rect?.x ?? 0}px`;
    s.top = `${rect?.y ?? 0}px`;
    s.width = `${rect?.w ?? 32}px`;
    s.height = `${rect?.h ?? 18}px`;
    if (cell) this.element.dataset.cell = cell;
    else delete this.element.dataset.cell;
  }

  /** Decoded and dropped frames so far (0 when the browser has no playback quality API). */
  frames(): FrameCounts {
    const q = this.video.getVideoPlaybackQuality?.();
    return { total: q?.totalVideoFrames ?? 0, dropped: q?.droppedVideoFrames ?? 0 };
  }

  private connect(): void {
    if (this.stopped) return;
    this.feed = new MseFeed(this.video, this.url, {
      onData: () => { if (this.hasFrame()) this.retryMs = RETRY_MIN_MS; },
      onEnd: (why, detail) => this.failed(why, detail),
    });
  }

  private failed(why: FeedEnd, detail: string): void {
    this.feed = null;
    this.lastError = `${why}: ${detail}`;
    this.setStatus('no-signal');
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private checkFrame(force = false): void {
    if (!force && !this.hasFrame()) return;
    if (this.feed) this.setStatus('live');
    this.flushWaiters();
  }

  private flushWaiters(): void {
    const w = this.frameWaiters;
    this.frameWaiters = [];
    for (const f of w) f();
  }

  private setStatus(s: PlayerStatus): void {
    if (s === this._status) return;
    this._status = s;
    this.render();
  }

  private render(): void {
    this.element.dataset.status = this._status;
    const failed = this._status === 'no-signal';
    const l = this.label.style;
    l.display = this._status === 'live' ? 'none' : 'flex';
    l.color = failed ? 'var(--vigil-nosignal-color,#e05555)' : 'var(--vigil-muted-color,#888)';
    l.background = failed ? 'var(--vigil-nosignal-bg,rgba(30,0,0,.85))' : 'transparent';
    this.label.replaceChildren(
      document.createTextNode(failed ? 'NO SIGNAL' : 'connecting…'),
      Object.assign(document.createElement('small'), { textContent: this.key.split('#')[0] ?? this.key, style: 'font-size:.6em;opacity:.8' }),
    );
  }
}
