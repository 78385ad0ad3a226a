/**
 * `<vigil-kiosk>`: the kiosk page. Without a stored pairing it pairs (showing the code);
 * with one it runs a {@link KioskSession} on the display named by `?display=<id>` (default:
 * the pairing's first display) and renders `<vigil-wall>`. When the hub refuses the
 * credential (the kiosk was revoked) the pairing is forgotten and pairing starts again.
 */
import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { PairingResult } from '../../components/protocol/pairing.ts';
import { clearPairing, loadPairing, savePairing } from './credential-store.ts';
import { KioskSession } from './kiosk-session.ts';
import { pairKiosk } from './pairing-client.ts';
import { installHook, type KioskPhase } from './test-hook.ts';
import type { PlacedCell } from './wall-controller.ts';
import './pairing-screen.ts';
import './wall-view.ts';

/** The screen size the kiosk reports when pairing (px, within the hub's 64…16384). */
function screenSize(): { width: number; height: number } {
  const clamp = (v: number): number => Math.min(16_384, Math.max(64, Math.round(v || 0)));
  return { width: clamp(innerWidth), height: clamp(innerHeight) };
}

/** The kiosk page's root element: pairing screen or wall (see the file comment). */
@customElement('vigil-kiosk')
export class KioskApp extends LitElement {
  static override styles = css`:host { display: block; position: fixed; inset: 0; background: var(--vigil-bg, #000); }`;

  @state() private phase: KioskPhase = 'pairing';
  @state() private code = '';
  @state() private problem = '';
  @state() private cells: PlacedCell[] = [];
  private session: KioskSession | null = null;
  private pairing: AbortController | null = null;
  private readonly hook = installHook(() => ({ phase: this.phase, session: this.session }));

  override connectedCallback(): void {
    super.connectedCallback();
    const stored = loadPairing();
    if (stored) this.open(stored);
    else this.pair();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.pairing?.abort();
    this.session?.dispose();
    this.session = null;
  }

  private pair(): void {
    this.phase = 'pairing';
    this.code = '';
    this.pairing?.abort();
    const ctl = new AbortController();
    this.pairing = ctl;
    const about = { ...screenSize(), user_agent: navigator.userAgent.slice(0, 512) };
    pairKiosk(about, { onTicket: (t) => { this.code = t.code; this.problem = ''; }, onError: (m) => { this.problem = m; } }, ctl.signal)
      .then((result) => {
        savePairing(result);
        this.open(result);
      })
      .catch(() => { /* aborted */ });
  }

  private open(pairing: PairingResult): void {
    this.problem = '';
    const display = new URLSearchParams(location.search).get('display') || pairing.displays[0];
    if (!display) { this.phase = 'offline'; this.problem = 'this kiosk has no display'; return; }
    try {
      this.session = new KioskSession(pairing, display, {
        onCells: (cells) => { this.cells = cells; },
        onLink: (online) => { this.phase = online ? 'online' : 'offline'; },
        onPainted: (s) => this.hook.painted(s),
        onDenied: (d) => { this.problem = `display "${d}" is not one of this kiosk's displays (${pairing.displays.join(', ')})`; },
        onRefused: () => {
          this.session = null;
          this.cells = [];
          clearPairing();
          this.pair();
        },
      });
      this.phase = 'connecting';
    } catch (e) {
      this.phase = 'offline';
      this.problem = `cannot show display "${display}": ${(e as Error).message}`;
    }
  }

  override render() {
    if (this.phase === 'pairing') {
      return html`<vigil-pairing .code=${this.code} .hub=${location.origin} .error=${this.problem}></vigil-pairing>`;
    }
    const notice = this.phase === 'online' ? '' : this.phase === 'connecting' ? 'connecting to the hub…' : 'hub offline';
    return html`<vigil-wall .cells=${this.cells} .layer=${this.session?.wall.layer ?? null} .notice=${this.problem || notice}
      .waiting=${`waiting for a layout on ${this.session?.display ?? 'this display'}…`}></vigil-wall>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'vigil-kiosk': KioskApp }
}
