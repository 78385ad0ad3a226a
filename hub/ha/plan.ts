/**
 * Every discovery config the hub should have retained, from what it knows (pure):
 * topic → JSON payload. The service publishes the difference with what is on the broker
 * and clears the rest.
 */
import type { Layout } from '../../components/protocol/layout.ts';
import { cameraEntities, zoneEntities, zonesOf, type HaCamera } from './camera-entities.ts';
import type { Discovery, HaContext } from './discovery.ts';
import { headEntities, type HaHead } from './head-entities.ts';
import { hubEntities } from './hub-entities.ts';
import { displayEntities, kioskEntities, type HaKiosk } from './wall-entities.ts';

/** What the hub's Home Assistant devices are made from. */
export interface HaModel {
  cameras: HaCamera[];
  layouts: Array<Pick<Layout, 'id'>>;
  kiosks: HaKiosk[];
  /** Camera heads that announced themselves (`vigil/head/<id>/info`); absent = none. */
  heads?: HaHead[];
}

/** The device builders, in publishing order; removal and restarts come for free. */
const BUILDERS: Array<(ctx: HaContext, model: HaModel) => Discovery[]> = [
  (ctx) => hubEntities(ctx),
  (ctx, m) => m.cameras.flatMap((c) => cameraEntities(ctx, c)),
  (ctx, m) => zonesOf(m.cameras).flatMap((z) => zoneEntities(ctx, z)),
  (ctx, m) => m.kiosks.flatMap((k) => [...kioskEntities(ctx, k), ...k.displays.flatMap((d) => displayEntities(ctx, k, d, m.layouts))]),
  (ctx, m) => (m.heads ?? []).flatMap((h) => headEntities(ctx, h)),
];

/**
 * The discovery topics and payloads for `model`.
 * @param onClash called for a config whose `unique_id` an earlier one took (e.g. camera `zone_a`
 *   and zone `a`); the later one is left out
 */
export function discoveryPlan(ctx: HaContext, model: HaModel, onClash: (d: Discovery) => void = () => undefined): Map<string, string> {
  const plan = new Map<string, string>();
  const ids = new Set<string>();
  for (const build of BUILDERS) {
    for (const d of build(ctx, model)) {
      if (ids.has(d.objectId)) { onClash(d); continue; }
      ids.add(d.objectId);
      plan.set(ctx.topics.haDiscovery(d.component, ctx.topics.prefix, d.objectId), JSON.stringify(d.config));
    }
  }
  return plan;
}
