/**
 * A paired kiosk at work on one display: the MQTT bus, the wall, and the retained
 * `vigil/kiosk/<id>/state` published on every switch (when the bundle arrives and again
 * when it has painted), every {@link STATE_EVERY_MS} ms, and after every reconnect.
 * Bundles come retained on `vigil/display/<display>/layout/state`; one that does not parse
 * is logged (console.warn) and changes nothing; an empty one (the layout was cleared, e.g.
 * the kiosk was removed) empties the wall.
 */
import { bundle as bundleSchema, type KioskState } from '../../components/protocol/layout.ts';
import type { PairingResult } from '../../components/protocol/pairing.ts';
import { KioskBus } from './kiosk-bus.ts';
import { CellMeter, kioskState } from './kiosk-state.ts';
import type { SwitchRecord } from './switch-timer.ts';
import { WallController, type PlacedCell } from './wall-controller.ts';

/** ms between periodic state reports. */
export const STATE_EVERY_MS = 5_000;

/** Callbacks of {@link KioskSession}. */
export interface SessionHandlers {
  /** Cells to render. */
  onCells: (cells: PlacedCell[]) => void;
  /** Connection to the hub: true = online. */
  onLink: (online: boolean) => void;
  /** The hub refused the credential: forget it and pair again. The session has ended. */
  onRefused: (reason: string) => void;
  /** A switch finished painting. */
  onPainted: (s: SwitchRecord) => void;
  /** The broker refused the subscription to the display (not one of this kiosk's). */
  onDenied: (display: string) => void;
}

/** One display of a paired kiosk. */
export class KioskSession {
  readonly wall: WallController;
  private readonly bus: KioskBus;
  private readonly meter = new CellMeter();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly stateTopic: string;
  private readonly layoutTopic: string;

  /**
   * @param pairing the stored pairing (credential, kiosk id, prefix)
   * @param display the display to show (one of `pairing.displays`)
   * @throws Error when the prefix or an id is not a valid topic segment
   */
  constructor(readonly pairing: PairingResult, readonly display: string, private readonly h: SessionHandlers) {
    this.wall = new WallController({
      onCells: h.onCells,
      onSwitch: (s) => {
        this.publishState();
        if (s.painted_ms !== null) h.onPainted(s);
      },
    });
    this.bus = new KioskBus(pairing, (t) => [t.displayLayoutState(display)], {
      onConnect: () => { h.onLink(true); this.publishState(); },
      onOffline: () => h.onLink(false),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onRefused: (reason) => { this.dispose(); h.onRefused(reason); },
      onDenied: () => h.onDenied(display),
    });
    this.stateTopic = this.bus.topics.kioskState(pairing.kiosk_id);
    this.layoutTopic = this.bus.topics.displayLayoutState(display);
    this.timer = setInterval(() => this.publishState(), STATE_EVERY_MS);
  }

  /** The kiosk's state now (cell fps measured with `meter`, by default the publisher's). */
  state(meter: CellMeter = this.meter): KioskState {
    return kioskState(this.pairing.kiosk_id, this.display, this.wall, meter);
  }

  /** Stops publishing, disconnects (publishing `offline`) and stops every player. */
  dispose(): void {
    clearInterval(this.timer);
    this.bus.end();
    this.wall.dispose();
  }

  private publishState(): void {
    if (this.bus.connected) this.bus.publishRetained(this.stateTopic, this.state());
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    if (topic !== this.layoutTopic) return;
    if (payload.length === 0) { this.wall.clear(); this.publishState(); return; }
    const receivedAt = Date.now(), receivedPerf = performance.now();
    let raw: unknown;
    try { raw = JSON.parse(new TextDecoder().decode(payload)); } catch { console.warn('vigil kiosk: layout state is not JSON'); return; }
    const parsed = bundleSchema.safeParse(raw);
    if (!parsed.success) {
      console.warn(`vigil kiosk: ignoring an invalid bundle: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      return;
    }
    if (parsed.data.display !== this.display) return;
    this.wall.show(parsed.data, receivedAt, receivedPerf);
  }
}
