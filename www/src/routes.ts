/**
 * The web UI's page table: each route's URL pattern, its title, where it sits in the nav,
 * who may see it, and how its page element is rendered. `<vigil-app>` matches the URL
 * against {@link ROUTES} ({@link match}) and renders the entry's `render(route)`.
 *
 * Pages are loaded on first use (`load`: a dynamic import, one chunk each, so the first paint
 * carries only the shell, the dashboard and the MQTT client); the app shows "Loading…" until
 * the module has defined the page's element, then renders it.
 *
 * Roles rank viewer < operator < admin (docs/security.md); `minRole` hides the nav entry
 * and shows "not allowed" instead of the page (the hub refuses the calls anyway).
 */
import { html, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import type { Route, RouteDef } from './router.ts';
import './pages/dashboard.ts';

/** A role of docs/security.md. */
export type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<string, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` is at least `min`. Unknown roles rank as viewer. */
export function atLeast(role: string | undefined, min: Role): boolean {
  return (RANK[role ?? 'viewer'] ?? 0) >= RANK[min]!;
}

/** One page of the app. */
export interface PageDef extends RouteDef {
  /** The `<title>` and the page's subject. */
  title: string;
  /** The nav entry this page highlights (`aria-current`); its own name when it has one. */
  section?: string;
  /** Shown in the main nav with this label (in table order). */
  nav?: string;
  /** The least role that sees the page; default viewer. */
  minRole?: Role;
  render(r: Route): TemplateResult;
  /** Loads the page's module (defines its element); absent for pages in the main bundle. */
  load?: () => Promise<unknown>;
}

const p = (r: Route, k: string): string => r.params[k] ?? '';

/** Every page, in nav order. More specific patterns first where two could match. */
export const PAGES: PageDef[] = [
  { name: 'dashboard', pattern: '/', title: 'Dashboard', nav: 'Dashboard', render: () => html`<vigil-dashboard></vigil-dashboard>` },
  { name: 'events', pattern: '/events', title: 'Events', nav: 'Events', render: (r) => html`<vigil-events .query=${r.query.toString()}></vigil-events>`, load: () => import('./pages/events.ts') },
  { name: 'event', pattern: '/events/:id', title: 'Event', section: 'events', render: (r) => html`<vigil-event-detail .eventId=${p(r, 'id')}></vigil-event-detail>`, load: () => import('./pages/event-detail.ts') },
  { name: 'recordings', pattern: '/recordings', title: 'Recordings', nav: 'Recordings', render: (r) => html`<vigil-recordings .query=${r.query.toString()}></vigil-recordings>`, load: () => import('./pages/recordings.ts') },
  { name: 'cameras', pattern: '/cameras', title: 'Cameras', nav: 'Cameras', render: () => html`<vigil-cameras></vigil-cameras>`, load: () => import('./pages/cameras.ts') },
  { name: 'camera-edit', pattern: '/cameras/:name/edit', title: 'Edit camera', section: 'cameras', minRole: 'admin', render: (r) => html`${keyed(p(r, 'name'), html`<vigil-camera-edit .camera=${p(r, 'name')}></vigil-camera-edit>`)}`, load: () => import('./pages/camera-edit.ts') },
  { name: 'zones', pattern: '/cameras/:name/zones', title: 'Zones and masks', section: 'cameras', minRole: 'admin', render: (r) => html`${keyed(p(r, 'name'), html`<vigil-zone-editor .camera=${p(r, 'name')}></vigil-zone-editor>`)}`, load: () => import('./pages/zone-editor.ts') },
  { name: 'camera', pattern: '/cameras/:name', title: 'Camera', section: 'cameras', render: (r) => html`${keyed(p(r, 'name'), html`<vigil-camera .camera=${p(r, 'name')}></vigil-camera>`)}`, load: () => import('./pages/camera.ts') },
  { name: 'layouts', pattern: '/layouts', title: 'Layouts', nav: 'Wall', render: () => html`<vigil-layouts></vigil-layouts>`, load: () => import('./pages/layouts.ts') },
  { name: 'layout', pattern: '/layouts/:id', title: 'Layout', section: 'layouts', minRole: 'admin', render: (r) => html`${keyed(p(r, 'id'), html`<vigil-layout-editor .layoutId=${p(r, 'id')}></vigil-layout-editor>`)}`, load: () => import('./pages/layout-editor.ts') },
  { name: 'kiosks', pattern: '/displays', title: 'Kiosks and displays', section: 'layouts', render: () => html`<vigil-kiosks></vigil-kiosks>`, load: () => import('./pages/kiosks.ts') },
  { name: 'rules', pattern: '/automations', title: 'Rules', nav: 'Rules', minRole: 'operator', render: () => html`<vigil-rules></vigil-rules>`, load: () => import('./pages/rules.ts') },
  { name: 'users', pattern: '/users', title: 'Users', nav: 'Users', minRole: 'admin', render: () => html`<vigil-users></vigil-users>`, load: () => import('./pages/users.ts') },
  { name: 'api-keys', pattern: '/api-keys', title: 'API keys and devices', section: 'users', minRole: 'admin', render: () => html`<vigil-api-keys></vigil-api-keys>`, load: () => import('./pages/api-keys.ts') },
  { name: 'system', pattern: '/system', title: 'System', nav: 'System', render: () => html`<vigil-system></vigil-system>`, load: () => import('./pages/system.ts') },
  { name: 'settings', pattern: '/settings', title: 'Settings', nav: 'Settings', minRole: 'admin', render: () => html`<vigil-settings></vigil-settings>`, load: () => import('./pages/settings.ts') },
  { name: 'account', pattern: '/account', title: 'Your account', render: () => html`<vigil-account></vigil-account>`, load: () => import('./pages/account.ts') },
];

/** The route table for {@link match}. */
export const ROUTES: RouteDef[] = PAGES.map(({ name, pattern }) => ({ name, pattern }));

/** The page of a route name, if any. */
export function pageOf(name: string): PageDef | undefined {
  return PAGES.find((x) => x.name === name);
}
