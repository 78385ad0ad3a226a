/**
 * SOAP requests to an ONVIF device through the `onvif` client (agsh/onvif 0.8.3), for the
 * operations Vigil sends itself: the client has no relay API, its pull-point loop cannot
 * be stopped or told apart from a dead device (see `pull-point.ts`), it reports a fault
 * only by its reason text, and it writes tokens into XML unescaped.
 *
 * {@link soapCall} builds the envelope with the client's own WS-Security header (the
 * UsernameToken digest with its clock offset from GetSystemDateAndTime), sends it through
 * the client's request plumbing (HTTP Digest fallback included) with an AbortSignal, and
 * answers the parsed Body (the client's xml2js tree: every child an array, text as a
 * string or `{_: text, $: attributes}`, element names without prefix and with a lower-case
 * first letter: `GetPresetsResponse` → `getPresetsResponse`). Every failure is an
 * {@link OnvifError} whose `kind` says what went wrong, the fault's subcode included.
 */
import type { Cam } from 'onvif';

/** What went wrong talking to a device. */
export type OnvifErrorKind =
  /** The device refused the credentials (`ter:NotAuthorized` or another security fault, HTTP 401). */
  | 'unauthorized'
  /** No answer at the TCP level: refused, reset, no route, unknown host. */
  | 'unreachable'
  /** Connected, but no (complete) answer in time. */
  | 'timeout'
  /** The device answered with a SOAP fault other than an authentication one. */
  | 'fault'
  /** The answer was not SOAP (a web page, a 404, garbage). */
  | 'protocol'
  /** Vigil gave up the request (stop). */
  | 'aborted';

/** A failed ONVIF request: `kind`, the message, the fault's innermost subcode (`ter:NoProfile`) and the HTTP status when known. */
export class OnvifError extends Error {
  constructor(readonly kind: OnvifErrorKind, message: string, readonly subcode?: string, readonly status?: number) {
    super(message);
    this.name = 'OnvifError';
  }
}

/** An element of the client's xml2js tree: child elements by name (arrays), `$` attributes, `_` text. */
export type XmlNode = { [name: string]: unknown; $?: Record<string, string>; _?: string };

/** The parts of the client's private request plumbing used here (present in 0.8.3; no typings). */
interface CamInternals {
  _request(
    options: { url: RequestTarget; body: string; replyTimeout?: number },
    callback: (err: (Error & { code?: string }) | null, body: unknown, xml?: string, status?: number) => void,
  ): void;
  _envelopeHeader(openHeader?: boolean): string;
  _envelopeFooter(): string;
}

/** `http.request` options the client's `_request` takes as `url` (it adds headers and method). */
interface RequestTarget {
  protocol: string;
  hostname: string;
  port: number;
  path: string;
  href: string;
  timeout: number;
  signal?: AbortSignal;
}

/** One request. */
export interface SoapCall {
  /** Where to send it: a service of the device by its client name (`events`, `ptz`, `deviceIO`, `media`; unknown or omitted = the device service), or an absolute address (a subscription's). */
  to?: string | { address: string };
  /** The operation element, namespaced (`<GetPresets xmlns="…">…</GetPresets>`); values escaped with {@link xmlEscape}. */
  body: string;
  /** Extra SOAP header blocks (WS-Addressing `To`, reference parameters). */
  header?: string;
  /** Time for the whole answer, ms; default the client's timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'ECONNABORTED']);
const AUTH_SUBCODE = /(^|:)(NotAuthorized|FailedAuthentication|InvalidSecurity|InvalidSecurityToken)$/;

/**
 * Sends one request.
 * @returns the parsed `Body` element
 * @throws OnvifError
 */
export function soapCall(cam: Cam, call: SoapCall): Promise<XmlNode> {
  const c = cam as unknown as CamInternals;
  const target = requestTarget(cam, call.to, call.timeoutMs ?? cam.timeout, call.signal);
  const envelope = c._envelopeHeader(true) + (call.header ?? '') +
    '</s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    call.body + c._envelopeFooter();
  return new Promise((resolve, reject) => {
    if (call.signal?.aborted) return reject(new OnvifError('aborted', 'request aborted'));
    try {
      c._request({ url: target, body: envelope, replyTimeout: target.timeout }, (err, body, _xml, status) => {
        const root = Array.isArray(body) ? (body[0] as XmlNode | undefined) : undefined;
        if (err) reject(classify(err, root, status, call.signal));
        else if (!root) reject(new OnvifError('protocol', 'empty SOAP body', undefined, status));
        else resolve(root);
      });
    } catch (err) {
      reject(classify(err as Error, undefined, undefined, call.signal));
    }
  });
}

/**
 * Turns a client error (a network error, `ONVIF SOAP Fault: <reason>`, `Network timeout`,
 * `Wrong ONVIF SOAP response`, `Digest authentication failed 401`) into an {@link OnvifError}.
 * @param body the parsed Body, when the device answered (its fault subcodes decide `unauthorized`)
 */
export function classify(thrown: unknown, body?: XmlNode, status?: number, signal?: AbortSignal): OnvifError {
  if (thrown instanceof OnvifError) return thrown;
  const err: Error & { code?: string } = thrown instanceof Error ? thrown : new Error(String(thrown));
  if (signal?.aborted || err.name === 'AbortError') return new OnvifError('aborted', 'request aborted');
  const fault = body ? child(body, 'fault') : undefined;
  if (fault) {
    const subcodes: string[] = [];
    for (let sub = child(child(fault, 'code'), 'subcode'); sub; sub = child(sub, 'subcode')) {
      const v = childText(sub, 'value');
      if (v) subcodes.push(v);
    }
    const reason = err.message.replace(/^ONVIF SOAP Fault: /, '') || subcodes.at(-1) || 'SOAP fault';
    const auth = subcodes.some((s) => AUTH_SUBCODE.test(s)) || status === 401;
    return new OnvifError(auth ? 'unauthorized' : 'fault', reason, subcodes.at(-1), status);
  }
  if (status === 401 || /^Digest authentication/.test(err.message)) return new OnvifError('unauthorized', `authentication refused (HTTP ${status ?? 401})`, undefined, 401);
  if (err.code && NETWORK_CODES.has(err.code)) return new OnvifError('unreachable', `${err.code}: ${err.message}`);
  if (err.message === 'Network timeout' || err.code === 'ESOCKETTIMEDOUT') return new OnvifError('timeout', 'no answer in time');
  if (/ONVIF SOAP Fault/.test(err.message)) return new OnvifError('fault', err.message.replace(/^ONVIF SOAP Fault: /, ''), undefined, status);
  if (/Wrong ONVIF SOAP response|Non-whitespace|Unexpected|Invalid character/i.test(err.message)) {
    return new OnvifError('protocol', `not an ONVIF answer${status ? ` (HTTP ${status})` : ''}`, undefined, status);
  }
  return new OnvifError(err.code ? 'unreachable' : 'protocol', err.message, undefined, status);
}

/**
 * Where a request goes. A service is reached as the client reaches it: the configured host
 * and port with the path of the service's XAddr (devices behind NAT or a port mapping
 * report their own address); a subscription address is used as the device gave it.
 */
function requestTarget(cam: Cam, to: SoapCall['to'], timeout: number, signal?: AbortSignal): RequestTarget {
  const scheme = cam.useSecure ? 'https:' : 'http:';
  const service = typeof to === 'string' ? cam.uri?.[to] : undefined;
  const href = typeof to === 'object' ? to.address : `${scheme}//${hostForUrl(cam.hostname)}:${cam.port}${service?.path ?? cam.path}`;
  const u = new URL(href);
  return {
    protocol: u.protocol,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
    path: `${u.pathname}${u.search}`,
    href: u.href,
    timeout,
    signal,
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Escapes text for XML element content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}

/** The child elements `name` of `node` (text-only ones as `{_: text}`). */
export function children(node: unknown, name: string): XmlNode[] {
  const v = node && typeof node === 'object' ? (node as XmlNode)[name] : undefined;
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (typeof x === 'string' ? { _: x } : x && typeof x === 'object' ? (x as XmlNode) : { _: String(x) }));
}

/** The first child element `name`. */
export function child(node: unknown, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** The trimmed text of a node (undefined when it has none). */
export function text(node: XmlNode | undefined): string | undefined {
  const t = node?._;
  return typeof t === 'string' ? t.trim() : undefined;
}

/** The trimmed text of the first child `name`. */
export function childText(node: unknown, name: string): string | undefined {
  return text(child(node, name));
}
