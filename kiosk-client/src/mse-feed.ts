/**
 * One connection of a `<video>` to the hub's live MSE WebSocket (hub/http/live.ts): a text
 * message `{"type":"init","codec","mime"}`, then binary ISO-BMFF units (init segment, then
 * fragments from a keyframe on). A new `init` text message means the camera's stream
 * restarted: the feed starts over with a new MediaSource and SourceBuffer.
 *
 * The feed keeps playback at the live edge (the hub sends the last GOP at once to a new
 * viewer: once that is appended the video seeks to `buffered.end - 0.1 s`), jumps over gaps,
 * and trims what lies more than {@link KEEP_BEHIND_S} behind the playhead so a wall of 32
 * cells runs for hours. It never retries: it reports its end once (`onEnd`) and the
 * {@link StreamPlayer} decides.
 */

/** Seconds of played video kept in the SourceBuffer. */
export const KEEP_BEHIND_S = 10;
/** Lag behind the live edge that makes the feed jump forward, s. */
const MAX_LAG_S = 1.5;
/** Where a jump lands, s before the end of the buffer. */
const EDGE_S = 0.1;
/**
 * For this long after an init segment (ms), the feed goes live at a smaller lag
 * ({@link START_LAG_S}): the hub's cached GOP arrives in a burst, maybe after the first
 * append already moved the playhead.
 */
const START_MS = 1_500;
const START_LAG_S = 0.3;
/** Queued messages beyond this: the browser cannot keep up; end and start over. */
const MAX_QUEUE = 90;
/** No message for this long (ms): the feed is stalled. */
const STALL_MS = 10_000;
/** Trim at most this often (ms). */
const TRIM_EVERY_MS = 2_000;

/** Why a feed ended. */
export type FeedEnd = 'closed' | 'stalled' | 'unsupported' | 'error';

/** Callbacks of a {@link MseFeed}. */
export interface FeedHandlers {
  /** A media message arrived (counts as a sign of life). */
  onData?: () => void;
  /** The feed ended; called at most once, never after {@link MseFeed.close}. */
  onEnd: (why: FeedEnd, detail: string) => void;
}

/** `url` relative to the page (`/api/cameras/…/live?…`) as a ws:// or wss:// URL matching the page. */
export function liveSocketUrl(url: string, page: Location = location): string {
  const u = new URL(url, page.href);
  u.protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

/** A live MSE connection feeding one `<video>`. */
export class MseFeed {
  private ws: WebSocket | null = null;
  private ms: MediaSource | null = null;
  private sb: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private ended = false;
  private atEdge = false;
  private startedAt = 0;
  private lastTrim = 0;
  private lastMessage = performance.now();
  private readonly timer: ReturnType<typeof setInterval>;

  /**
   * Opens the WebSocket at once.
   * @param video the element to feed (muted, autoplay); its `src` is replaced
   * @param url the stream URL from the bundle (relative to the page)
   */
  constructor(private readonly video: HTMLVideoElement, url: string, private readonly h: FeedHandlers) {
    const ws = new WebSocket(liveSocketUrl(url));
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => this.onMessage(ev.data);
    ws.onclose = (ev) => this.end('closed', `websocket closed (${ev.code})`);
    this.ws = ws;
    this.timer = setInterval(() => this.watch(), 500);
  }

  /** Stops the feed and releases the MediaSource (the decoder); no `onEnd` after this. */
  close(): void {
    this.ended = true;
    this.teardown();
  }

  private end(why: FeedEnd, detail: string): void {
    if (this.ended) return;
    this.ended = true;
    this.teardown();
    this.h.onEnd(why, detail);
  }

  private teardown(): void {
    clearInterval(this.timer);
    if (this.ws) {
      this.ws.onmessage = this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
    this.detach();
  }

  private detach(): void {
    this.queue = [];
    this.sb = null;
    if (this.ms) {
      this.ms = null;
      this.video.removeAttribute('src');
      this.video.load();
    }
  }

  private onMessage(data: string | ArrayBuffer): void {
    this.lastMessage = performance.now();
    if (typeof data === 'string') {
      let m: { type?: string; mime?: string };
      try { m = JSON.parse(data) as typeof m; } catch { return; }
      if (m.type === 'init' && m.mime) this.attach(m.mime);
      return;
    }
    if (!this.ms) return; // binary before any init text: wait for the next init
    this.h.onData?.();
    this.queue.push(data);
    if (this.queue.length > MAX_QUEUE) { this.end('stalled', 'too far behind'); return; }
    this.pump();
  }

  /** (Re)starts decoding with a fresh MediaSource for `mime`. */
  private attach(mime: string): void {
    this.detach();
    if (!MediaSource.isTypeSupported(mime)) { this.end('unsupported', `codec not supported: ${mime}`); return; }
    const ms = new MediaSource();
    this.ms = ms;
    this.atEdge = false;
    this.startedAt = performance.now();
    const src = URL.createObjectURL(ms);
    this.video.src = src;
    ms.addEventListener('sourceopen', () => {
      URL.revokeObjectURL(src);
      if (this.ms !== ms) return;
      try {
        const sb = ms.addSourceBuffer(mime);
        sb.mode = 'segments';
        sb.addEventListener('updateend', () => { if (this.sb === sb) { this.chase(); this.pump(); } });
        this.sb = sb;
      } catch (e) { this.end('error', `addSourceBuffer: ${String(e)}`); return; }
      this.pump();
    }, { once: true });
  }

  private pump(): void {
    const sb = this.sb;
    if (!sb || sb.updating || this.ms?.readyState !== 'open') return;
    if (this.trim(sb)) return;
    const next = this.queue.shift();
    if (!next) return;
    try {
      sb.appendBuffer(next);
    } catch (e) {
      if ((e as DOMException).name === 'QuotaExceededError' && sb.buffered.length) {
        this.queue.unshift(next);
        this.lastTrim = 0;
        this.removeBefore(sb, this.video.currentTime - 1);
      } else this.end('error', `appendBuffer: ${String(e)}`);
    }
  }

  /** Removes what is more than {@link KEEP_BEHIND_S} behind the playhead; true when a removal started. */
  private trim(sb: SourceBuffer): boolean {
    const now = performance.now();
    if (now - this.lastTrim < TRIM_EVERY_MS) return false;
    this.lastTrim = now;
    return this.removeBefore(sb, this.video.currentTime - KEEP_BEHIND_S);
  }

  private removeBefore(sb: SourceBuffer, until: number): boolean {
    const b = sb.buffered;
    if (!b.length || until - b.start(0) < 1) return false;
    try { sb.remove(b.start(0), until); return true; } catch { return false; }
  }

  /** Keeps the playhead at the live edge and playing. */
  private chase(): void {
    const sb = this.sb;
    if (!sb || sb.updating) return;
    const b = sb.buffered;
    if (!b.length) return;
    const last = b.length - 1;
    const end = b.end(last);
    const t = this.video.currentTime;
    // First data (the hub's cached GOP arrives at once): go live once it is appended.
    const starting = performance.now() - this.startedAt < START_MS;
    const jump = (!this.atEdge && this.queue.length === 0) || t < b.start(last) - 0.05 || end - t > (starting ? START_LAG_S : MAX_LAG_S);
    if (jump) {
      this.atEdge = true;
      this.video.currentTime = Math.max(b.start(last), end - EDGE_S);
    }
    if (this.video.paused) this.video.play().catch(() => { /* retried on the next append */ });
  }

  private watch(): void {
    if (performance.now() - this.lastMessage > STALL_MS) this.end('stalled', `no data for ${STALL_MS / 1000} s`);
    else this.chase();
  }
}
