/**
 * The REST client of the web UI. Every call goes to the page's own origin with its cookies
 * (`credentials: 'same-origin'`); unsafe methods carry `X-CSRF-Token` equal to the
 * `vigil_csrf` cookie (docs/security.md, double-submit cookie). An answer
 * `{error: {code, message, field?}}` becomes a thrown {@link ApiError}, which forms show
 * next to the named field. A `401` on a route other than login/setup/refresh refreshes the
 * session once (`POST /api/auth/refresh`, rotating the refresh cookie) and retries; when
 * that fails too, {@link session} reports the session as ended.
 */

/** An error answer of the hub (or a network failure, `status` 0, code `network`). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The signed-in user as `/api/auth/*` answers. */
export interface User { id?: string; username: string; role: string }

/** Session tokens from login, setup or refresh (`expires_in` in s). */
export interface SessionAnswer { access_token: string; refresh_token: string; expires_in: number; csrf_token: string; user?: User }

/** What a call returned: the parsed body and the headers (e.g. `X-Total-Count`). */
export interface ApiResult<T> { data: T; headers: Headers; status: number }

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NO_REFRESH = /^\/api\/auth\/(login|setup|refresh|status)\b/;

/** Reads one cookie of the page (the CSRF cookie is readable on purpose; the session ones are HttpOnly). */
export function cookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * The session as the page knows it: the latest access token (kept in memory only, for the
 * MQTT connection: it is the MQTT password) and who is signed in. Listeners hear about new
 * tokens (`token`) and the end of the session (`ended`).
 */
class SessionState extends EventTarget {
  accessToken: string | null = null;
  user: User | null = null;
  private refreshing: Promise<boolean> | null = null;

  /** Takes tokens from a login/setup/refresh answer. */
  accept(s: SessionAnswer): void {
    this.accessToken = s.access_token;
    if (s.user) this.user = s.user;
    this.dispatchEvent(new Event('token'));
  }

  /** Forgets the session (after logout, or when refreshing failed). */
  end(): void {
    const had = this.user !== null;
    this.accessToken = null;
    this.user = null;
    if (had) this.dispatchEvent(new Event('ended'));
  }

  /** One refresh at a time (the refresh token rotates: two at once would spend it twice). @returns whether it worked */
  refresh(): Promise<boolean> {
    this.refreshing ??= raw<SessionAnswer>('POST', '/api/auth/refresh', {})
      .then((r) => { this.accept(r.data); return true; }, () => false)
      .finally(() => { this.refreshing = null; });
    return this.refreshing;
  }
}

/** The page's one session. */
export const session = new SessionState();

async function raw<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (UNSAFE.has(method)) {
    const csrf = cookie('vigil_csrf');
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'the hub cannot be reached');
  }
  const text = await res.text();
  let data: unknown;
  try { data = text ? JSON.parse(text) : undefined; } catch { data = text; }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? (res.statusText || `HTTP ${res.status}`), e?.field);
  }
  return { data: data as T, headers: res.headers, status: res.status };
}

/**
 * Calls the hub.
 * @param method `GET`, `POST`, `PUT`, `PATCH` or `DELETE`
 * @param path an absolute path under `/api`, with its query
 * @param body sent as JSON when given
 * @throws ApiError with the hub's `code`, `message` and `field`; code `network` when unreachable
 */
export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<ApiResult<T>> {
  try {
    return await raw<T>(method, path, body, signal);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || NO_REFRESH.test(path)) throw err;
    if (!(await session.refresh())) {
      session.end();
      throw err;
    }
    return raw<T>(method, path, body, signal);
  }
}

/** `GET` returning the body only. */
export const get = async <T>(path: string, signal?: AbortSignal): Promise<T> => (await api<T>('GET', path, undefined, signal)).data;
