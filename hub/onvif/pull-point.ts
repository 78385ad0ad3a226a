/**
 * One ONVIF pull-point subscription (ONVIF Core §9.1, WS-BaseNotification):
 * CreatePullPointSubscription, PullMessages (long poll), Renew, Unsubscribe.
 *
 * Vigil runs its own loop (`camera-link.ts`) on these rather than the client's
 * `cam.on('event')` loop. Measured against the emulator (test/fixtures/onvif-device.ts)
 * with onvif 0.8.3: after the last `event` listener is removed its pending PullMessages
 * (Timeout PT1M, fixed) stays open for up to a minute with no way to abort it; one
 * NotAuthorized (or any non-network fault) on CreatePullPointSubscription ends its loop
 * for good (no further request after the password was fixed); while a device is down it
 * retries from 10 ms up (39 requests in the first 5 s); and it reports resubscriptions
 * only as `eventsError`s. Here every request can be aborted, the pull timeout and the
 * subscription lifetime are Vigil's, and the link decides when to resubscribe.
 */
import type { OnvifSession } from './device.ts';
import { OnvifError, child, childText, children, text, xmlEscape, type XmlNode } from './soap.ts';

const TEV = 'http://www.onvif.org/ver10/events/wsdl';
const WSNT = 'http://docs.oasis-open.org/wsn/b-2';

/** A live subscription; {@link expiresAt} follows the device's answers (its clock offset taken out). */
export class PullPoint {
  /** Local Unix ms when the device will end the subscription unless renewed. */
  expiresAt: number;

  private constructor(
    private readonly session: OnvifSession,
    /** The subscription's address (`wsa:Address` of the SubscriptionReference). */
    readonly address: string,
    /** Reference parameters echoed as SOAP headers (Axis' `SubscriptionId`). */
    private readonly referenceHeader: string,
    expiresAt: number,
  ) {
    this.expiresAt = expiresAt;
  }

  /**
   * CreatePullPointSubscription with an InitialTerminationTime of `lifetimeS`.
   * @throws OnvifError
   */
  static async create(session: OnvifSession, lifetimeS: number, signal?: AbortSignal): Promise<PullPoint> {
    const res = await session.call('events', `<CreatePullPointSubscription xmlns="${TEV}"><InitialTerminationTime>PT${lifetimeS}S</InitialTerminationTime></CreatePullPointSubscription>`, { signal });
    const r = child(res, 'createPullPointSubscriptionResponse');
    const ref = child(r, 'subscriptionReference');
    const address = childText(ref, 'address');
    if (!address || !URL.canParse(address)) throw new OnvifError('protocol', `CreatePullPointSubscription answered no usable address (${JSON.stringify(address ?? '')})`);
    // Axis devices address a subscription by a reference parameter; the client sends it the same way.
    const axisId = childText(child(ref, 'referenceParameters'), 'subscriptionId');
    const header = axisId ? `<SubscriptionId xmlns="http://www.axis.com/2009/event" a:IsReferenceParameter="true">${xmlEscape(axisId)}</SubscriptionId>` : '';
    return new PullPoint(session, address, header, expiry(r, lifetimeS));
  }

  /**
   * PullMessages: waits up to `timeoutS` on the device for up to `limit` messages.
   * @returns the NotificationMessages (possibly none)
   * @throws OnvifError (`fault` when the subscription is gone, `aborted` on `signal`)
   */
  async pull(timeoutS: number, limit: number, signal?: AbortSignal): Promise<XmlNode[]> {
    const res = await this.session.call({ address: this.address }, `<PullMessages xmlns="${TEV}"><Timeout>PT${timeoutS}S</Timeout><MessageLimit>${limit}</MessageLimit></PullMessages>`, {
      header: this.header(), timeoutMs: (timeoutS + 10) * 1000, signal,
    });
    const r = child(res, 'pullMessagesResponse');
    if (child(r, 'terminationTime')) this.expiresAt = expiry(r, 0);
    return children(r, 'notificationMessage');
  }

  /** Renew to `lifetimeS` from now. @throws OnvifError */
  async renew(lifetimeS: number, signal?: AbortSignal): Promise<void> {
    const res = await this.session.call({ address: this.address }, `<Renew xmlns="${WSNT}"><TerminationTime>PT${lifetimeS}S</TerminationTime></Renew>`, { header: this.header(), signal });
    this.expiresAt = expiry(child(res, 'renewResponse'), lifetimeS);
  }

  /** Unsubscribe, best effort: never throws (the device may be gone). */
  async unsubscribe(timeoutMs: number): Promise<void> {
    await this.session.call({ address: this.address }, `<Unsubscribe xmlns="${WSNT}"/>`, { header: this.header(), timeoutMs }).catch(() => undefined);
  }

  private header(): string {
    return `<a:To>${xmlEscape(this.address)}</a:To>${this.referenceHeader}`;
  }
}

/**
 * Local expiry from a response's TerminationTime − CurrentTime (both on the device's clock);
 * without them, `fallbackS` from now.
 */
function expiry(r: XmlNode | undefined, fallbackS: number): number {
  const end = Date.parse(text(child(r, 'terminationTime')) ?? '');
  const now = Date.parse(text(child(r, 'currentTime')) ?? '');
  return Date.now() + (Number.isFinite(end) && Number.isFinite(now) ? end - now : fallbackS * 1000);
}
