/** Network settings (the seed's `rc_network`): host name, DHCP or a static address. */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { Drivers, NetworkConfig } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

/** A host name label (RFC 1123 §2.1): 1–63 letters, digits and inner hyphens. */
export const hostnameSchema = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, 'expected a host name: 1–63 letters, digits and inner hyphens');

/** Whether `s` is an address with a prefix length: `a.b.c.d/0…32` or an IPv6 address `/0…128`. */
export function isCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const prefix = Number(m[2]);
  if (isIPv4(m[1]!)) return prefix <= 32;
  if (isIPv6(m[1]!)) return prefix <= 128;
  return false;
}

export const cidrSchema = z.string().refine(isCidr, 'expected an address with a prefix length, e.g. 192.168.1.50/24');

/**
 * Declares `network.hostname` (default `vigil-head`), `network.dhcp` (default on) and
 * `network.address` (the static address in CIDR form, used while DHCP is off). A change
 * sends the whole configuration to the network driver (admins only: `system_rw`).
 */
export function declareNetwork(store: StateStore, drivers: Pick<Drivers, 'network'>): Teardown {
  store.declare({
    key: 'network.hostname', schema: hostnameSchema, default: 'vigil-head', ...rw('system'), persist: true,
    description: 'Host name', ha: { component: 'text', entity_category: 'config' },
  });
  store.declare({
    key: 'network.dhcp', schema: z.boolean(), default: true, ...rw('system'), persist: true,
    description: 'Get the address by DHCP', ha: { component: 'switch', entity_category: 'config' },
  });
  store.declare({
    key: 'network.address', schema: cidrSchema, default: '192.168.1.50/24', ...rw('system'), persist: true,
    description: 'Static address with prefix length (used without DHCP)', ha: { component: 'text', entity_category: 'config' },
  });
  const current = (): NetworkConfig => ({
    hostname: store.get('network.hostname') as string,
    dhcp: store.get('network.dhcp') as boolean,
    address: store.get('network.address') as string,
  });
  store.observe<string>('network.hostname', (hostname) => drivers.network.apply({ ...current(), hostname }));
  store.observe<boolean>('network.dhcp', (dhcp) => drivers.network.apply({ ...current(), dhcp }));
  store.observe<string>('network.address', (address) => drivers.network.apply({ ...current(), address }));
  return noop;
}
