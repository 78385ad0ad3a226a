/**
 * `<vigil-live-view camera="yard">`: a camera's live picture. It plays the fragmented MP4 of
 * the live WebSocket `/api/cameras/<cam>/live` with Media Source Extensions (the approach of
 * hub/http/live-page.ts: a text `init` message with the MIME type, then binary fMP4; seek
 * to `buffered.end - 0.1` s once the first burst is appended, chase the live edge), and
 * falls back to refreshing `/api/cameras/<cam>/latest.jpg` every {@link JPEG_MS} ms when
 * MSE or the codec is missing, when no init message comes within {@link NO_INIT_MS} ms of
 * connecting (a camera without an fMP4 output, e.g. a `file://` source), or when the
 * WebSocket is refused twice before any video. The session cookie authenticates both.
 *
 * `stream="sub"` asks for the camera's sub stream (the hub serves the main one when the
 * camera has no distinct sub stream): small tiles use it. While the element is scrolled out
 * of view or the page is hidden, its socket is closed (nothing decodes unseen); it
 * reconnects when it shows again.
 *
 * The element reflects its state for tests and styling: `data-mode` is `mse`, `jpeg` or
 * absent (connecting), and `frames` counts pictures shown (video frames or loaded JPEGs).
 */
import { LitElement, css, html, nothing } from 'lit';

/** Connected but no init message after this long (ms): use JPEG polling. */
const NO_INIT_MS = 4_000;
/** JPEG polling period (ms). */
const JPEG_MS = 1_000;
/** Behind the live edge by more than this (s): jump. Same figure as hub/http/live-page.ts. */
const MAX_LAG_S = 1.0;
/** Keep this much played video in the SourceBuffer (s). */
const KEEP_S = 4;

export class VigilLiveView extends LitElement {
  static override properties = { camera: { type: String }, stream: { type: String }, mode: { state: true }, jpeg: { state: true }, status: { state: true } };
  declare camera: string;
  /** `main` (default) or `sub`. */
  declare stream: 'main' | 'sub';
  declare mode: 'mse' | 'jpeg' | null;
  declare jpeg: string;
  declare status: string;
  /** Pictures shown so far (video frames presented, or JPEGs loaded). */
  frames = 0;
  private ws: WebSocket | null = null;
  private ms: MediaSource | null = null;
  private sb: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private gotInit = false;
  private seekEdge = false;
  private refused = 0;
  private closed = false;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private poll?: ReturnType<typeof setInterval>;
  private visible = true;
  private seen?: IntersectionObserver;

  constructor() {
    super();
    this.camera = '';
    this.stream = 'main';
    this.mode = null;
    this.jpeg = '';
    this.status = 'Connecting…';
  }

  static override styles = css`
    :host { display: block; position: relative; aspect-ratio: 4 / 3; background: #000; border-radius: 8px; overflow: hidden; }
    video, img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
    [hidden] { display: none !important; }
    .status { position: absolute; left: 8px; bottom: 8px; padding: 2px 8px; background: rgba(0, 0, 0, .7); color: #fff; border-radius: 4px; font-size: .85rem; }
  `;

  private get base(): string { return `/api/cameras/${encodeURIComponent(this.camera)}`; }
  private get video(): HTMLVideoElement | null { return this.renderRoot.querySelector('video'); }

  override firstUpdated(): void {
    const v = this.video!;
    if ('requestVideoFrameCallback' in v) {
      const onFrame = (): void => { this.frames++; if (!this.closed) v.requestVideoFrameCallback(onFrame); };
      v.requestVideoFrameCallback(onFrame);
    }
    v.addEventListener('error', () => { if (this.mode === 'mse' && v.getAttribute('src')) this.startJpeg('the video failed'); });
    const MS = window.MediaSource;
    if (!MS) { this.startJpeg('no MSE in this browser'); return; }
    this.connect();
    this.timers.push(setInterval(() => this.chase(), 500));
    this.seen = new IntersectionObserver((entries) => this.setVisible(entries.some((e) => e.isIntersecting)));
    this.seen.observe(this);
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  private readonly onVisibility = (): void => { this.setVisible(this.visible); };

  /** Closes the socket while unseen (scrolled away, or the tab hidden); reconnects when seen. */
  private setVisible(v: boolean): void {
    this.visible = v;
    const showing = v && !document.hidden;
    if (this.mode === 'jpeg' || this.closed) return;
    if (!showing && this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; ws.close(); this.teardown(); this.gotInit = false; this.status = 'Paused while not visible'; }
    else if (showing && !this.ws) this.connect();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.closed = true;
    this.seen?.disconnect();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.ws?.close();
    this.teardown();
    for (const t of this.timers) clearTimeout(t);
    clearInterval(this.poll);
  }

  override updated(): void {
    if (this.mode) this.dataset.mode = this.mode; else delete this.dataset.mode;
  }

  private connect(): void {
    if (this.closed || this.mode === 'jpeg') return;
    if (this.ws || !this.visible || document.hidden) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${this.base}/live${this.stream === 'sub' ? '?stream=sub' : ''}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.status = 'Waiting for video…';
      if (!this.gotInit) this.timers.push(setTimeout(() => { if (!this.gotInit && this.ws === ws) this.startJpeg('no video stream'); }, NO_INIT_MS));
    };
    ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
      if (typeof ev.data === 'string') {
        let m: { type?: string; mime?: string };
        try { m = JSON.parse(ev.data) as typeof m; } catch { return; }
        if (m.type === 'init' && m.mime) { this.gotInit = true; this.setup(m.mime); }
        return;
      }
      if (!this.ms) return;
      this.queue.push(ev.data);
      if (this.queue.length > 60) { ws.close(); return; }
      this.pump();
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.teardown();
      if (this.closed || this.mode === 'jpeg') return;
      if (!this.gotInit && ++this.refused >= 2) { this.startJpeg('live stream refused'); return; }
      this.status = 'Reconnecting…';
      this.timers.push(setTimeout(() => this.connect(), 2_000));
    };
  }

  private setup(mime: string): void {
    this.teardown();
    if (!MediaSource.isTypeSupported(mime)) { this.startJpeg(`codec ${mime} not supported`); return; }
    const source = new MediaSource();
    this.ms = source;
    this.seekEdge = true;
    const v = this.video!;
    const url = URL.createObjectURL(source);
    v.src = url;
    source.addEventListener('sourceopen', () => {
      URL.revokeObjectURL(url);
      if (this.ms !== source) return;
      try {
        this.sb = source.addSourceBuffer(mime);
        this.sb.mode = 'segments';
      } catch (e) { this.startJpeg(String((e as Error).message)); return; }
      this.sb.addEventListener('updateend', () => { this.toEdge(); this.chase(); this.pump(); });
      this.mode = 'mse';
      this.status = 'Live';
      this.pump();
    }, { once: true });
  }

  private teardown(): void {
    this.queue = [];
    this.sb = null;
    if (this.ms?.readyState === 'open') { try { this.ms.endOfStream(); } catch { /* already ended */ } }
    this.ms = null;
  }

  private pump(): void {
    const sb = this.sb;
    const v = this.video;
    if (!sb || !v || sb.updating || this.ms?.readyState !== 'open') return;
    const b = sb.buffered;
    if (b.length && v.currentTime - KEEP_S - b.start(0) > 1) {
      try { sb.remove(b.start(0), v.currentTime - KEEP_S); return; } catch { /* try again on the next append */ }
    }
    const next = this.queue.shift();
    if (next) { try { sb.appendBuffer(next); } catch { this.ws?.close(); } }
  }

  private toEdge(): void {
    const sb = this.sb;
    if (!this.seekEdge || !sb || this.queue.length || !sb.buffered.length) return;
    this.seekEdge = false;
    const b = sb.buffered;
    this.video!.currentTime = Math.max(b.start(b.length - 1), b.end(b.length - 1) - 0.1);
  }

  private chase(): void {
    const sb = this.sb;
    const v = this.video;
    if (!sb || !v || !sb.buffered.length) return;
    const b = sb.buffered;
    const end = b.end(b.length - 1);
    if (v.currentTime < b.start(b.length - 1) - 0.05 || end - v.currentTime > MAX_LAG_S) v.currentTime = Math.max(b.start(b.length - 1), end - 0.25);
    if (v.paused) v.play().catch(() => { /* autoplay of a muted video is allowed; retried on the next chase */ });
  }

  private startJpeg(why: string): void {
    if (this.mode === 'jpeg' || this.closed) return;
    this.mode = 'jpeg';
    this.ws?.close();
    this.teardown();
    this.video?.removeAttribute('src');
    this.status = `Picture every ${JPEG_MS / 1000} s (${why})`;
    const load = (): void => { if (!document.hidden) this.jpeg = `${this.base}/latest.jpg?t=${Date.now()}`; };
    load();
    this.poll = setInterval(load, JPEG_MS);
  }

  override render() {
    return html`
      <video muted autoplay playsinline disablepictureinpicture ?hidden=${this.mode === 'jpeg'} aria-label=${`Live video of ${this.camera}`}></video>
      <img ?hidden=${this.mode !== 'jpeg' || !this.jpeg} src=${this.jpeg || nothing} alt=${`Latest picture of ${this.camera}`} @load=${() => { this.frames++; }}>
      <span class="status" role="status">${this.status}</span>`;
  }
}
customElements.define('vigil-live-view', VigilLiveView);
