/**
 * `<vigil-recordings query="camera=yard&day=2026-12-04&t=1796400000">`: one camera's
 * recordings of one local day (docs/recording.md).
 *
 * - The URL query is the page's state: `camera`, `day` (`YYYY-MM-DD`, local) and `t`
 *   (the playhead, Unix s); the camera select, the date input and the previous / next day
 *   buttons change it with `navigate()` (so deep links and Back work); a click on the
 *   timeline replaces `t`.
 * - The timeline (`<vigil-recordings-timeline>`) shows the day's segments
 *   (`GET /api/recordings?camera&after&before`, paged) with their motion / object flags, and
 *   the events (`GET /api/events?camera&after&before`) with their labels; "Show" zooms to
 *   6 h, 1 h or 10 min around the playhead, with Earlier / Later to pan.
 * - Scrubbing plays `GET /api/cameras/:name/recordings.mp4?start&end` of the fixed 5-minute
 *   window holding the time (`WINDOW_S`; the hub caches each window's file), seeks to it
 *   and plays; the playhead follows playback (the file's position mapped to wall-clock time
 *   across gaps, recordings-time.ts), and the next window follows at its end.
 * - New segments appear without a reload: each `vigil/recorder/<cam>/segment` announcement
 *   re-reads the newest segments (and a 15 s poll while showing today and the live
 *   connection is down); new events arrive on `vigil/events`.
 * - Exports (`<vigil-recordings-exports>`): a range from the timeline selection, progress,
 *   download and play.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { ApiError, api, get } from '../api.ts';
import { bus } from '../bus.ts';
import { duration } from '../format.ts';
import { eventFromMessage } from '../live-events.ts';
import { navigate } from '../router.ts';
import { shared } from '../styles.ts';
import type { Camera, EventRecord } from '../types.ts';
import type { ExportJob } from './recordings-jobs.ts';
import { jobRange } from './recordings-jobs.ts';
import './recordings-exports.ts';
import './recordings-timeline.ts';
import type { EventMark } from './recordings-timeline.ts';
import {
  clock, dayBounds, dayOf, isRecorded, nextRecorded, overlapping, positionOf, runs, segmentDuration, shiftDay, wallAt, windowAt,
  type Segment, type Span,
} from './recordings-time.ts';

/** Zoom levels of the timeline: the view's length, s (`day` = the whole day). */
const ZOOMS = [
  { id: 'day', label: 'Whole day', s: 0 },
  { id: '6h', label: '6 hours', s: 21_600 },
  { id: '1h', label: '1 hour', s: 3_600 },
  { id: '10m', label: '10 minutes', s: 600 },
] as const;
type Zoom = (typeof ZOOMS)[number]['id'];
/** Segment rows per request (the API's maximum). */
const PAGE = 1000;
/** While showing today with the live connection down, segments are re-read this often, ms. */
const POLL_MS = 15_000;
/** How far back a refresh re-reads segments (their motion / object flags change after the fact), s. */
const REFRESH_BACK_S = 600;

/** What the video element plays: a window of the recordings, or an export's file. */
type Source = { kind: 'range'; range: Span; segs: Segment[]; url: string } | { kind: 'export'; job: ExportJob; url: string };

export class VigilRecordings extends LitElement {
  static override properties = {
    query: { type: String }, cameras: { state: true }, segments: { state: true }, events: { state: true }, zoom: { state: true },
    viewStart: { state: true }, playhead: { state: true }, selection: { state: true }, status: { state: true }, error: { state: true },
    loading: { state: true }, source: { state: true },
  };
  declare query: string;
  declare cameras: Camera[] | null;
  declare segments: Segment[];
  declare events: EventMark[];
  declare zoom: Zoom;
  declare viewStart: number;
  declare playhead: number | null;
  declare selection: Span | null;
  declare status: string;
  declare error: string;
  declare loading: boolean;
  declare source: Source | null;
  /** The camera and day the segments and events are of (`cam|day`). */
  private loadedKey = '';
  private loadCtl?: AbortController;
  private stops: (() => void)[] = [];
  private pollTimer?: ReturnType<typeof setInterval>;
  private refreshTimer?: ReturnType<typeof setTimeout>;
  /** The `t` this page last wrote into the URL (a query change carrying it is not a new position). */
  private writtenT: string | null = null;
  /** Seek here once the new source's metadata is loaded; play then when `playAfterLoad`. */
  private pendingPos: number | null = null;
  private playAfterLoad = false;
  /** The playhead was moved off what the video holds (keys): the video's time no longer moves it. */
  private detached = false;

  constructor() {
    super();
    this.query = '';
    this.cameras = null;
    this.segments = [];
    this.events = [];
    this.zoom = 'day';
    this.viewStart = 0;
    this.playhead = null;
    this.selection = null;
    this.status = '';
    this.error = '';
    this.loading = false;
    this.source = null;
  }

  static override styles = [shared, css`
    .controls { display: flex; flex-wrap: wrap; gap: 12px; padding: 12px 16px; align-items: end; }
    .day { display: flex; gap: 6px; align-items: center; }
    .day button { padding: 8px 10px; }
    .player { margin-top: 16px; display: grid; gap: 8px; }
    video { width: 100%; max-height: 50vh; aspect-ratio: 4 / 3; background: #000; border-radius: 6px; display: block; }
    .tl { padding: 12px 16px; margin-top: 16px; display: grid; gap: 8px; }
    .pan { display: flex; gap: 8px; justify-content: space-between; flex-wrap: wrap; align-items: center; }
    .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 0; padding: 0; list-style: none; font-size: .9rem; color: var(--muted); }
    .sw { display: inline-block; width: 14px; height: 10px; margin-right: 6px; vertical-align: middle; border-radius: 2px; }
    .events { list-style: none; margin: 0; padding: 8px; display: flex; flex-wrap: wrap; gap: 6px; max-height: 220px; overflow-y: auto; }
    .events button { min-height: 36px; padding: 4px 10px; font-weight: 500; }
    .selection { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
    @media (max-width: 720px) {
      .controls { padding: 12px; } video { max-height: 40vh; }
      .pan span { order: -1; flex-basis: 100%; text-align: center; }
    }
  `];

  private get params(): URLSearchParams { return new URLSearchParams(this.query); }
  /** The camera in the URL, else the first the user sees. */
  private get camera(): string { return this.params.get('camera') ?? this.cameras?.[0]?.name ?? ''; }
  /** The day in the URL when valid, else today. */
  private get day(): string { const d = this.params.get('day') ?? ''; return dayBounds(d) ? d : dayOf(Date.now() / 1000); }
  private get bounds(): Span { return dayBounds(this.day)!; }
  private get isToday(): boolean { return this.day === dayOf(Date.now() / 1000); }
  private get zoomS(): number { const z = ZOOMS.find((x) => x.id === this.zoom)!.s; return z || this.bounds.end - this.bounds.start; }
  private get view(): Span {
    const b = this.bounds, len = Math.min(this.zoomS, b.end - b.start);
    const start = Math.min(Math.max(b.start, this.viewStart), b.end - len);
    return { start, end: start + len };
  }
  private get video(): HTMLVideoElement | null { return this.renderRoot.querySelector('video'); }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadCameras();
    this.stops.push(bus.on('vigil/recorder/+/segment', (topic, p) => this.onSegment(topic, p)));
    this.stops.push(bus.on('vigil/events', (_t, p) => this.onEvent(p)));
    this.pollTimer = setInterval(() => { if (this.isToday && bus.state !== 'online' && this.loadedKey) void this.refresh(); }, POLL_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const s of this.stops) s();
    this.stops = [];
    clearInterval(this.pollTimer);
    clearTimeout(this.refreshTimer);
    this.loadCtl?.abort();
  }

  override willUpdate(changed: PropertyValues): void {
    if (!changed.has('query') && !changed.has('cameras')) return;
    if (this.cameras === null) return;
    const p = this.params;
    if ((!p.get('camera') || !dayBounds(p.get('day') ?? '')) && this.camera) {
      // A stable URL for what is shown: the default camera and day go into it (no new history entry).
      const q = new URLSearchParams(p);
      q.set('camera', this.camera);
      q.set('day', this.day);
      navigate(`/recordings?${q}`, true);
      return;
    }
    const key = `${this.camera}|${this.day}`;
    const t = p.get('t');
    const tChanged = t !== this.writtenT;
    this.writtenT = t;
    if (key !== this.loadedKey) {
      this.loadedKey = key;
      this.stopPlayback();
      this.selection = null;
      const tn = t === null ? NaN : Number(t);
      this.playhead = Number.isFinite(tn) && tn >= this.bounds.start && tn < this.bounds.end ? tn : null;
      this.viewStart = this.bounds.start;
      void this.load();
    } else if (tChanged && t !== null && Number.isFinite(Number(t))) {
      this.scrub(Number(t), false);
    }
  }

  private async loadCameras(): Promise<void> {
    try {
      this.cameras = await get<Camera[]>('/api/cameras');
    } catch (err) {
      this.cameras = [];
      this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** Reads the day's segments (every page) and events. */
  private async load(): Promise<void> {
    this.loadCtl?.abort();
    const ctl = new AbortController();
    this.loadCtl = ctl;
    const cam = this.camera, b = this.bounds;
    this.segments = [];
    this.events = [];
    this.error = '';
    if (!cam) return;
    this.loading = true;
    try {
      const [segs, evs] = await Promise.all([
        this.fetchSegments(cam, b.start, b.end, ctl.signal),
        get<EventRecord[]>(`/api/events?camera=${encodeURIComponent(cam)}&after=${b.start}&before=${b.end}&limit=1000`, ctl.signal),
      ]);
      this.segments = segs;
      this.events = evs.filter((e) => !e.false_positive).map(toMark);
      this.centerView(this.playhead ?? segs[segs.length - 1]?.end_time ?? (this.isToday ? Date.now() / 1000 : b.start));
      if (this.playhead !== null) {
        // A deep link to a moment: the video is cued there (paused, its frame shown).
        const target = nextRecorded(segs, this.playhead);
        if (target !== null && target - this.playhead < 60) { this.playhead = target; this.playFrom(target, false); }
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.error = err instanceof ApiError && err.status === 404 ? `There is no camera ${cam}, or you may not see it.` : err instanceof ApiError ? err.message : String(err);
    } finally {
      if (this.loadCtl === ctl) this.loading = false;
    }
  }

  /** Segments of `cam` overlapping `[after, before)`, oldest first, every page of them. */
  private async fetchSegments(cam: string, after: number, before: number, signal: AbortSignal): Promise<Segment[]> {
    const out: Segment[] = [];
    for (let offset = 0; ; ) {
      const q = new URLSearchParams({ camera: cam, after: String(after), before: String(before), order: 'asc', limit: String(PAGE), offset: String(offset) });
      const r = await api<Segment[]>('GET', `/api/recordings?${q}`, undefined, signal);
      out.push(...r.data);
      offset += r.data.length;
      if (r.data.length < PAGE || offset >= Number(r.headers.get('x-total-count') ?? offset)) return out;
    }
  }

  /** Re-reads the newest segments (since the last one's end − 10 min) and merges them in. @returns the ids read */
  private async refresh(): Promise<Set<string>> {
    const cam = this.camera, key = this.loadedKey, b = this.bounds;
    const last = this.segments[this.segments.length - 1];
    const after = Math.max(b.start, (last?.end_time ?? b.start) - REFRESH_BACK_S);
    try {
      const fresh = await this.fetchSegments(cam, after, b.end, new AbortController().signal);
      if (key !== this.loadedKey) return new Set();
      const byId = new Map(this.segments.map((s) => [s.id, s]));
      for (const s of fresh) byId.set(s.id, s);
      this.segments = [...byId.values()].sort((x, y) => x.start_time - y.start_time);
      return new Set(fresh.map((s) => s.id));
    } catch {
      return new Set(); // the next announcement or poll tries again
    }
  }

  private onSegment(topic: string, payload: Uint8Array): void {
    const cam = topic.split('/')[2];
    if (cam !== this.camera || !this.loadedKey) return;
    let seg: Partial<Segment>;
    try { seg = JSON.parse(new TextDecoder().decode(payload)) as Partial<Segment>; } catch { return; }
    const b = this.bounds;
    if (typeof seg.start_time !== 'number' || seg.start_time >= b.end || (seg.end_time ?? 0) <= b.start) return;
    // The hub indexes the same announcement: read a moment later, once more if it was not there yet.
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      void this.refresh().then((ids) => {
        if (seg.id && !ids.has(seg.id)) this.refreshTimer = setTimeout(() => void this.refresh(), 2500);
      });
    }, 800);
  }

  private onEvent(payload: Uint8Array): void {
    const e = eventFromMessage(payload);
    const b = this.bounds;
    if (!e || e.camera !== this.camera || e.start_time < b.start || e.start_time >= b.end) return;
    const rest = this.events.filter((x) => x.id !== e.id);
    this.events = e.false_positive ? rest : [...rest, toMark(e)].sort((x, y) => x.start_time - y.start_time);
  }

  // ---- the view ---------------------------------------------------------------------------

  private centerView(t: number): void {
    this.viewStart = t - this.zoomS / 2;
    this.viewStart = this.view.start; // clamped to the day
  }

  /** Keeps `t` in view while it moves (playback, keys): pans when it leaves. */
  private follow(t: number): void {
    const v = this.view, len = v.end - v.start;
    if (t > v.end) this.viewStart = t - len * 0.1;
    else if (t < v.start) this.viewStart = t - len * 0.9;
  }

  private setZoom(z: Zoom): void {
    this.zoom = z;
    this.centerView(this.playhead ?? this.segments[this.segments.length - 1]?.end_time ?? this.bounds.start);
  }

  private pan(dir: -1 | 1): void {
    const v = this.view;
    this.viewStart = v.start + dir * (v.end - v.start) / 2;
  }

  private go(q: Record<string, string>): void {
    const p = new URLSearchParams({ camera: this.camera, day: this.day, ...q });
    navigate(`/recordings?${p}`);
  }

  // ---- playback ---------------------------------------------------------------------------

  /**
   * Moves the playhead to `t` (clamped to the day). With `play`, plays from there (from the
   * next recording when `t` is in a gap); without, seeks the loaded video when it holds `t`.
   */
  private scrub(time: number, play: boolean): void {
    const b = this.bounds;
    const t = Math.min(Math.max(b.start, time), b.end - 0.001);
    if (!play) {
      this.playhead = t;
      this.follow(t);
      const src = this.source;
      const v = this.video;
      if (v && src?.kind === 'range' && t >= src.range.start && t < src.range.end && isRecorded(src.segs, t)) {
        this.detached = false;
        v.currentTime = positionOf(src.segs, src.range, t);
      } else if (v) {
        this.detached = true;
        if (!v.paused) v.pause();
      }
      return;
    }
    const target = nextRecorded(this.segments, t);
    if (target === null) {
      this.playhead = t;
      this.status = `Nothing recorded at or after ${clock(t)}.`;
      return;
    }
    this.playhead = target;
    this.follow(target);
    this.writtenT = String(Math.round(target));
    navigate(`/recordings?${new URLSearchParams({ camera: this.camera, day: this.day, t: this.writtenT })}`, true);
    this.playFrom(target);
  }

  /** Plays the recordings from `t` (a recorded time): the 5-minute window holding it, sought to `t`; with `autoplay` false it is only cued there. */
  private playFrom(t: number, autoplay = true): void {
    const v = this.video;
    if (!v) return;
    const range = windowAt(t);
    const segs = overlapping(this.segments, range.start, range.end);
    const src = this.source;
    const pos = positionOf(segs, range, t);
    if (src?.kind === 'range' && src.range.start === range.start && src.segs.length === segs.length && v.readyState >= 1) {
      this.detached = false;
      v.currentTime = pos;
      if (autoplay) {
        this.status = `Playing from ${clock(t)}.`;
        v.play().catch(() => undefined);
      }
      return;
    }
    const url = `/api/cameras/${encodeURIComponent(this.camera)}/recordings.mp4?start=${range.start}&end=${range.end}`;
    this.source = { kind: 'range', range, segs, url };
    this.load_(v, url, pos, autoplay ? `Loading ${clock(t)}…` : `At ${clock(t)}: press Enter on the timeline or the video's play button.`, autoplay);
  }

  /** Plays an export's (or event clip's) file; the playhead follows when it is of this camera and day. */
  private playExport(job: ExportJob): void {
    const v = this.video;
    if (!v) return;
    this.source = { kind: 'export', job, url: `/api/exports/${encodeURIComponent(job.id)}/file` };
    this.load_(v, this.source.url, 0, `Loading the export ${jobRange(job)}…`);
    v.scrollIntoView?.({ block: 'nearest' });
  }

  private load_(v: HTMLVideoElement, url: string, pos: number, status: string, autoplay = true): void {
    this.detached = false;
    this.pendingPos = pos;
    this.playAfterLoad = autoplay;
    this.status = status;
    v.src = url;
    v.load();
  }

  private stopPlayback(): void {
    const v = this.video;
    this.source = null;
    this.status = '';
    if (v) { v.pause(); v.removeAttribute('src'); v.load(); }
  }

  private onLoaded(): void {
    const v = this.video;
    if (!v || this.pendingPos === null) return;
    v.currentTime = Math.min(this.pendingPos, Math.max(0, (Number.isFinite(v.duration) ? v.duration : Infinity) - 0.05));
    this.pendingPos = null;
    if (this.playAfterLoad) v.play().catch(() => undefined);
    this.playAfterLoad = false;
  }

  /** Wall-clock time of the frame shown, or null when the source is not of this camera's day. */
  private wallNow(v: HTMLVideoElement): number | null {
    const src = this.source;
    if (!src) return null;
    if (src.kind === 'range') return wallAt(src.segs, src.range, v.currentTime);
    const b = this.bounds;
    const t = src.job.start_time + v.currentTime;
    return src.job.camera === this.camera && t >= b.start && t < b.end ? t : null;
  }

  private onTime(): void {
    const v = this.video;
    if (!v || this.pendingPos !== null || this.detached) return;
    const t = this.wallNow(v);
    if (t === null) return;
    this.playhead = t;
    if (!v.paused) this.follow(t);
  }

  /** The video's own play control while the playhead is elsewhere: play from the playhead instead. */
  private onVideoPlay(): void {
    if (!this.detached || this.playhead === null) return;
    const target = nextRecorded(this.segments, this.playhead);
    if (target === null) { this.video?.pause(); this.status = `Nothing recorded at or after ${clock(this.playhead)}.`; return; }
    this.playhead = target;
    this.playFrom(target);
  }

  private onPlaying(): void {
    const v = this.video;
    const src = this.source;
    if (!v || !src) return;
    const t = this.wallNow(v);
    this.status = src.kind === 'export' ? `Playing the export ${jobRange(src.job)}.` : `Playing from ${clock(t ?? 0)}.`;
  }

  private onEnded(): void {
    const src = this.source;
    if (src?.kind !== 'range') { this.status = 'The export has ended.'; return; }
    const next = nextRecorded(this.segments, src.range.end);
    if (next !== null && next < this.bounds.end) this.playFrom(next);
    else this.status = `The recording ends at ${clock(src.segs[src.segs.length - 1]?.end_time ?? src.range.end)}.`;
  }

  private onVideoError(): void {
    const v = this.video;
    if (!v || !v.getAttribute('src')) return;
    this.status = `This recording cannot be played${v.error?.message ? `: ${v.error.message}` : ''}.`;
  }

  private onPlay(): void {
    const v = this.video;
    if (this.playhead === null) {
      const first = this.segments.find((s) => s.end_time > this.view.start);
      if (first) this.scrub(Math.max(first.start_time, this.view.start), true);
      return;
    }
    if (v && this.source?.kind === 'range' && isRecorded(this.source.segs, this.playhead) && this.playhead >= this.source.range.start && this.playhead < this.source.range.end) {
      v.play().catch(() => undefined);
      this.status = `Playing from ${clock(this.playhead)}.`;
      return;
    }
    this.scrub(this.playhead, true);
  }

  // ---- rendering --------------------------------------------------------------------------

  override render(): TemplateResult {
    const cams = this.cameras;
    if (cams === null) return html`<h1>Recordings</h1><p aria-busy="true">Loading cameras…</p>`;
    if (cams.length === 0) return html`<h1>Recordings</h1>${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : html`<p class="muted" id="no-cameras">No camera yet.</p>`}`;
    const cam = this.camera, day = this.day;
    const today = dayOf(Date.now() / 1000);
    return html`
      <h1>Recordings</h1>
      <form class="card controls" @submit=${(e: Event) => e.preventDefault()}>
        <div class="field"><label for="rec-camera">Camera</label>
          <select id="rec-camera" .value=${cam} @change=${(e: Event) => { const c = (e.target as HTMLSelectElement).value; navigate(`/recordings?${new URLSearchParams({ camera: c, day })}`); }}>
            ${cams.some((c) => c.name === cam) ? nothing : html`<option value=${cam}>${cam}</option>`}
            ${cams.map((c) => html`<option value=${c.name} ?selected=${c.name === cam}>${c.friendly_name || c.name}</option>`)}
          </select></div>
        <div class="field"><label for="rec-day">Day</label>
          <div class="day">
            <button type="button" class="secondary" aria-label="Previous day" @click=${() => this.go({ day: shiftDay(day, -1) })}>◀</button>
            <input id="rec-day" type="date" .value=${day} max=${today} @change=${(e: Event) => { const d = (e.target as HTMLInputElement).value; if (dayBounds(d)) this.go({ day: d }); }}>
            <button type="button" class="secondary" aria-label="Next day" ?disabled=${day >= today} @click=${() => this.go({ day: shiftDay(day, 1) })}>▶</button>
          </div></div>
        <div class="field"><label for="rec-zoom">Show</label>
          <select id="rec-zoom" .value=${this.zoom} @change=${(e: Event) => this.setZoom((e.target as HTMLSelectElement).value as Zoom)}>
            ${ZOOMS.map((z) => html`<option value=${z.id} ?selected=${z.id === this.zoom}>${z.label}</option>`)}
          </select></div>
      </form>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <section class="player" aria-labelledby="player-h">
        <h2 id="player-h" class="visually-hidden">Player</h2>
        <video id="player" muted playsinline controls preload="auto" aria-label=${`Recording of ${cam}`}
          @loadedmetadata=${this.onLoaded} @timeupdate=${this.onTime} @seeked=${this.onTime} @play=${this.onVideoPlay} @playing=${this.onPlaying}
          @waiting=${() => { this.status = 'Loading…'; }} @ended=${this.onEnded} @error=${this.onVideoError}></video>
        <p role="status" id="player-status" class="muted">${this.status || 'Click the timeline (or focus it and press Enter) to play.'}</p>
      </section>
      ${this.timeline(cam, day)}
      ${this.eventList(day)}
      <vigil-recordings-exports .camera=${cam} .selection=${this.selection} .playhead=${this.playhead}
        @play-export=${(e: CustomEvent<ExportJob>) => this.playExport(e.detail)}></vigil-recordings-exports>`;
  }

  private timeline(cam: string, day: string): TemplateResult {
    const v = this.view, b = this.bounds;
    const spans = runs(this.segments);
    const total = this.segments.reduce((s, x) => s + segmentDuration(x), 0);
    const zoomed = v.end - v.start < b.end - b.start;
    return html`<section class="card tl" aria-labelledby="tl-h">
      <h2 id="tl-h" style="margin:0">Timeline of ${day}</h2>
      <p id="tl-summary" class="muted" style="margin:0" aria-live="polite">${this.loading ? 'Loading recordings…'
        : spans.length ? `${spans.length} recorded ${spans.length === 1 ? 'span' : 'spans'}, ${duration(total)} in all; the last ends at ${clock(spans[spans.length - 1]!.end)}.`
        : 'Nothing recorded on this day.'}</p>
      ${zoomed ? html`<div class="pan">
        <button type="button" class="secondary" ?disabled=${v.start <= b.start} @click=${() => this.pan(-1)}>◀ Earlier</button>
        <span class="muted">${clock(v.start)} – ${clock(v.end)}</span>
        <button type="button" class="secondary" ?disabled=${v.end >= b.end} @click=${() => this.pan(1)}>Later ▶</button></div>` : nothing}
      <vigil-recordings-timeline .from=${v.start} .to=${v.end} .segments=${this.segments} .events=${this.events}
        .playhead=${this.playhead} .selection=${this.selection} label=${`Playhead, ${cam} on ${day}`}
        @scrub=${(e: CustomEvent<{ time: number; play: boolean }>) => this.scrub(e.detail.time, e.detail.play)}
        @select=${(e: CustomEvent<Span>) => { this.selection = e.detail; this.status = `Selected ${clock(e.detail.start)} – ${clock(e.detail.end)} (${duration(e.detail.end - e.detail.start)}) for export.`; }}
        @play=${this.onPlay}></vigil-recordings-timeline>
      <ul class="legend" aria-label="Legend">
        <li><span class="sw" style="background:var(--accent)" aria-hidden="true"></span>Recorded</li>
        <li><span class="sw" style="background:var(--warn)" aria-hidden="true"></span>Motion</li>
        <li><span class="sw" style="background:var(--bad)" aria-hidden="true"></span>Objects</li>
        <li><span class="sw" style="background:var(--fg)" aria-hidden="true"></span>Events</li>
        <li><span class="sw" style="border:2px solid var(--accent)" aria-hidden="true"></span>Selection (drag)</li>
      </ul>
      ${this.selection ? html`<div class="selection"><span>Selected ${clock(this.selection.start)} – ${clock(this.selection.end)}</span>
        <button type="button" class="secondary" @click=${() => { this.selection = null; }}>Clear the selection</button></div>` : nothing}
    </section>`;
  }

  private eventList(day: string): TemplateResult {
    const evs = this.events;
    return html`<section aria-labelledby="ev-h">
      <h2 id="ev-h">Events on ${day}</h2>
      ${evs.length === 0 ? html`<p class="muted" id="no-day-events">No event on this day.</p>`
        : html`<ul class="card events" aria-label="Play an event">${evs.map((e) => html`<li>
            <button type="button" class="secondary" data-event=${e.id} @click=${() => this.scrub(e.start_time - 2, true)}>${clock(e.start_time)} ${e.label}</button></li>`)}</ul>`}
    </section>`;
  }
}
customElements.define('vigil-recordings', VigilRecordings);

function toMark(e: EventRecord): EventMark {
  return { id: e.id, label: e.label, start_time: e.start_time, end_time: e.end_time };
}
