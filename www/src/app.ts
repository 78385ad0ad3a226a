/**
 * `<vigil-app>`: the shell of the web UI. It asks `/api/auth/status` who is there, and shows
 * first-run setup (no user yet), the sign-in form, or the signed-in app: a header with the
 * user and "Sign out", a nav (collapsed behind a "Menu" button on narrow screens), a theme
 * toggle, the live-connection state, and the routed page in `<main>`. A skip link jumps
 * to the main region. The MQTT connection ({@link bus}) opens once signed in, with the
 * session's access token as password.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { api, cookie, get, session, type User } from './api.ts';
import { bus } from './bus.ts';
import { NAVIGATE, match, navigate, startRouter, type Route } from './router.ts';
import { PAGES, ROUTES, atLeast, pageOf } from './routes.ts';
import { shared } from './styles.ts';
import { applyStoredTheme, currentTheme, setTheme } from './theme.ts';
import './pages/login.ts';

type View = 'loading' | 'setup' | 'login' | 'app' | 'offline';

export class VigilApp extends LitElement {
  static override properties = {
    view: { state: true }, user: { state: true }, route: { state: true }, menuOpen: { state: true },
    theme: { state: true }, busState: { state: true }, notice: { state: true },
  };
  declare view: View;
  declare user: User | null;
  declare route: Route;
  declare menuOpen: boolean;
  declare theme: 'dark' | 'light';
  declare busState: string;
  declare notice: string;
  private stopRouter?: () => void;
  private firstRoute = true;
  /** Pages whose module has loaded, and those loading (routes.ts `load`). */
  private readonly loaded = new Set<string>();
  private readonly loading = new Set<string>();

  constructor() {
    super();
    applyStoredTheme();
    this.view = 'loading';
    this.user = null;
    this.route = match(ROUTES, location.pathname, location.search);
    this.menuOpen = false;
    this.theme = currentTheme();
    this.busState = 'offline';
    this.notice = '';
  }

  static override styles = [shared, css`
    :host { min-height: 100vh; display: flex; flex-direction: column; }
    .skip { position: absolute; left: 8px; top: -48px; z-index: 10; background: var(--accent); color: var(--accent-fg); padding: 8px 12px; border-radius: 6px; }
    .skip:focus { top: 8px; }
    header { display: flex; align-items: center; gap: 12px; padding: 8px 16px; border-bottom: 1px solid var(--line); background: var(--card); flex-wrap: wrap; }
    .brand { font-weight: 700; font-size: 1.15rem; color: var(--fg); text-decoration: none; margin-right: 8px; }
    nav ul { list-style: none; display: flex; gap: 4px; margin: 0; padding: 0; }
    nav a { display: block; padding: 8px 12px; border-radius: 6px; color: var(--fg); text-decoration: none; }
    nav a[aria-current="page"] { background: var(--bg); box-shadow: inset 0 -3px 0 var(--accent); font-weight: 600; }
    nav a:hover { background: var(--bg); }
    .spacer { flex: 1; }
    .who { display: flex; align-items: center; gap: 10px; }
    .menu-button { display: none; }
    main { flex: 1; padding: 20px 16px 40px; width: 100%; max-width: 1400px; margin: 0 auto; }
    main:focus { outline: none; }
    .center { padding: 48px 16px; text-align: center; }
    .notice { margin: 0; padding: 10px 16px; background: var(--card); border-bottom: 1px solid var(--warn); }
    @media (max-width: 720px) {
      .menu-button { display: inline-flex; }
      nav { order: 10; width: 100%; }
      nav[data-open="false"] { display: none; }
      nav ul { flex-direction: column; }
      .who .name { display: none; }
    }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    this.stopRouter = startRouter(this);
    window.addEventListener(NAVIGATE, this.onNavigate);
    session.addEventListener('ended', this.onEnded);
    bus.addEventListener('state', this.onBus);
    void this.boot();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopRouter?.();
    window.removeEventListener(NAVIGATE, this.onNavigate);
    session.removeEventListener('ended', this.onEnded);
    bus.removeEventListener('state', this.onBus);
  }

  private readonly onBus = (): void => { this.busState = bus.state; };
  private readonly onEnded = (): void => {
    bus.close();
    this.user = null;
    this.notice = 'Your session has ended. Please sign in again.';
    this.view = 'login';
  };
  private readonly onNavigate = (): void => {
    this.route = match(ROUTES, location.pathname, location.search);
    this.menuOpen = false;
    this.updateTitle();
    if (!this.firstRoute) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('main')?.focus());
  };

  private updateTitle(): void {
    const t = this.view === 'app' ? pageOf(this.route.name)?.title ?? 'Page not found' : this.view === 'setup' ? 'Set up' : 'Sign in';
    document.title = `${t} · Vigil`;
  }

  /** Finds out who is there: setup, sign-in, or a live session (then a fresh access token for MQTT). */
  private async boot(): Promise<void> {
    try {
      const st = await get<{ setup_required: boolean; authenticated: boolean }>('/api/auth/status');
      if (st.setup_required) { this.view = 'setup'; this.updateTitle(); return; }
      // The access token is HttpOnly: a refresh gives this page one (for MQTT) and works also when the session cookie expired.
      // Only with a sign of a session (a live one, or the CSRF cookie that lives as long as the refresh cookie): no 401 to log otherwise.
      if ((st.authenticated || cookie('vigil_csrf') !== undefined) && await session.refresh()) {
        const me = await get<{ name: string; role: string; id: string }>('/api/auth/me');
        this.signedIn({ id: me.id, username: me.name, role: me.role });
        return;
      }
      this.view = 'login';
    } catch {
      this.view = 'offline';
    }
    this.updateTitle();
  }

  private signedIn(u: User): void {
    session.user = u;
    this.user = u;
    this.notice = '';
    this.view = 'app';
    this.route = match(ROUTES, location.pathname, location.search);
    this.updateTitle();
    bus.connect(u.username);
  }

  private async signOut(): Promise<void> {
    try { await api('POST', '/api/auth/logout'); } catch { /* the session is gone anyway */ }
    bus.close();
    session.accessToken = null;
    session.user = null;
    this.user = null;
    this.view = 'login';
    this.updateTitle();
  }

  private toggleTheme(): void {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    setTheme(this.theme);
  }

  private skip(e: Event): void {
    e.preventDefault();
    this.renderRoot.querySelector<HTMLElement>('main')?.focus();
  }

  override updated(): void { this.firstRoute = false; }

  override render(): TemplateResult {
    const skip = html`<a class="skip" href="#main" @click=${this.skip}>Skip to main content</a>`;
    switch (this.view) {
      case 'loading': return html`<main id="main" tabindex="-1" class="center" aria-busy="true"><p>Loading…</p></main>`;
      case 'offline': return html`<main id="main" tabindex="-1" class="center"><h1>Vigil</h1><p role="alert">The hub cannot be reached. Reload the page to try again.</p></main>`;
      case 'setup': return html`${skip}<main id="main" tabindex="-1"><vigil-login mode="setup" @signed-in=${(e: CustomEvent<User>) => this.signedIn(e.detail)}></vigil-login></main>`;
      case 'login': return html`${skip}${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
        <main id="main" tabindex="-1"><vigil-login mode="login" @signed-in=${(e: CustomEvent<User>) => this.signedIn(e.detail)}></vigil-login></main>`;
      case 'app': return this.shell();
    }
  }

  private shell(): TemplateResult {
    const r = this.route;
    const current = pageOf(r.name)?.section ?? r.name;
    const nav = PAGES.filter((n) => n.nav && atLeast(this.user?.role, n.minRole ?? 'viewer'));
    const liveLabel = this.busState === 'online' ? 'Live' : this.busState === 'connecting' ? 'Connecting' : 'Offline';
    return html`
      <a class="skip" href="#main" @click=${this.skip}>Skip to main content</a>
      <header>
        <a class="brand" href="/">Vigil</a>
        <button class="menu-button secondary" aria-expanded=${this.menuOpen ? 'true' : 'false'} aria-controls="nav"
          @click=${() => { this.menuOpen = !this.menuOpen; }}>Menu</button>
        <nav id="nav" aria-label="Main" data-open=${this.menuOpen ? 'true' : 'false'}>
          <ul>${nav.map((n) => html`<li><a href=${n.pattern} aria-current=${current === n.name ? 'page' : nothing}>${n.nav}</a></li>`)}</ul>
        </nav>
        <span class="spacer"></span>
        <span class="badge ${this.busState === 'online' ? 'ok' : this.busState === 'connecting' ? 'warn' : 'bad'}" id="live-state"
          title="Live updates over MQTT">${liveLabel}</span>
        <button class="secondary" @click=${this.toggleTheme} aria-label=${`Switch to the ${this.theme === 'dark' ? 'light' : 'dark'} theme`}>
          ${this.theme === 'dark' ? 'Light' : 'Dark'} theme</button>
        <span class="who"><a class="name" id="user-name" href="/account" title="Your account">${this.user?.username} <span class="muted">(${this.user?.role})</span></a>
          <button class="secondary" id="logout" @click=${() => this.signOut()}>Sign out</button></span>
      </header>
      ${this.notice ? html`<p class="notice" role="alert">${this.notice}</p>` : nothing}
      <main id="main" tabindex="-1">${this.page(r)}</main>`;
  }

  private page(r: Route): TemplateResult {
    const def = pageOf(r.name);
    if (!def) return html`<h1>Page not found</h1><p>There is no page at <code>${r.path}</code>. <a href="/">Go to the dashboard</a>.</p>`;
    if (!atLeast(this.user?.role, def.minRole ?? 'viewer')) {
      return html`<h1>${def.title}</h1><p role="alert">This page needs the ${def.minRole} role; you are signed in as ${this.user?.role}.</p>`;
    }
    // The element is rendered once its module is there: pages read their properties in connectedCallback.
    if (def.load && !this.loaded.has(def.name)) {
      if (!this.loading.has(def.name)) {
        this.loading.add(def.name);
        def.load().then(() => { this.loaded.add(def.name); this.requestUpdate(); },
          () => { this.loading.delete(def.name); this.notice = 'A part of the page could not be loaded (the hub may have been updated). Reload the page.'; });
      }
      return html`<p aria-busy="true">Loading…</p>`;
    }
    return def.render(r);
  }
}
customElements.define('vigil-app', VigilApp);

export { navigate };
