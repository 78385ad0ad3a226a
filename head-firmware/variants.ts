/**
 * Firmware variants (the seed's "Deployment Variants": build-time feature sets) as feature
 * profiles: which state modules are on, which defaults differ, and the flags the head
 * shows (`system.variant`, `system.branding`, `system.watermark`, `system.factory_test`).
 *
 * | variant | for | differs from DEFAULT |
 * |---|---|---|
 * | DEFAULT | development | every module, diagnostics included |
 * | DEMO | trade shows | no recording or tag categories, no diagnostics, watermarked picture |
 * | DEV | testing | factory test mode |
 * | EDU | medical education | picture-in-picture on (top right), no diagnostics |
 * | OEM | OEM partners | own product name (`branding`), no diagnostics |
 *
 * The config block (`variantConfigSchema`) picks the variant and may adjust each variant:
 * ```yaml
 * variant: OEM
 * overrides:
 *   OEM: { branding: "Acme Scope", defaults: { light.level: 60 }, modules: { pip: false } }
 * ```
 */
import { z } from 'zod';
import { MODULE_NAMES, type ModuleName } from './modules/names.ts';

export const VARIANTS = ['DEFAULT', 'DEMO', 'DEV', 'EDU', 'OEM'] as const;
export type Variant = (typeof VARIANTS)[number];

/** A built-in profile. */
export interface VariantProfile {
  description: string;
  /** Modules off (every other one is on). */
  off: readonly ModuleName[];
  /** Defaults in place of the modules' own, by key. */
  defaults: Readonly<Record<string, unknown>>;
  watermark: boolean;
  factory_test: boolean;
  branding: string;
}

const BRAND = 'Vigil Head';

export const VARIANT_PROFILES: Readonly<Record<Variant, VariantProfile>> = {
  DEFAULT: { description: 'Development: every feature, diagnostics on', off: [], defaults: {}, watermark: false, factory_test: false, branding: BRAND },
  DEMO: { description: 'Trade shows: no recording, watermarked picture', off: ['recording', 'tag_categories', 'diagnostics'], defaults: {}, watermark: true, factory_test: false, branding: `${BRAND} Demo` },
  DEV: { description: 'Testing: factory test mode, diagnostics on', off: [], defaults: {}, watermark: false, factory_test: true, branding: `${BRAND} Dev` },
  EDU: { description: 'Medical education: picture-in-picture on', off: ['diagnostics'], defaults: { 'pip.enabled': true, 'pip.position': 'top_right' }, watermark: false, factory_test: false, branding: `${BRAND} EDU` },
  OEM: { description: 'OEM partners: own branding, no diagnostics', off: ['diagnostics'], defaults: {}, watermark: false, factory_test: false, branding: 'OEM Camera' },
};

const KEY_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Adjustments of one variant in the config. */
export const variantOverridesSchema = z.object({
  /** Product name (OEM). */
  branding: z.string().trim().min(1).max(64).optional(),
  /** Modules switched on (`true`) or off (`false`) relative to the profile. */
  modules: z.partialRecord(z.enum(MODULE_NAMES), z.boolean()).optional(),
  /** Defaults by key, checked against each key's schema when it is declared. */
  defaults: z.record(z.string().regex(KEY_RE, 'expected a state key such as light.level'), z.unknown()).optional(),
}).strict();

/** The head's `variant` config block. */
export const variantConfigSchema = z.object({
  variant: z.enum(VARIANTS).default('DEFAULT'),
  overrides: z.partialRecord(z.enum(VARIANTS), variantOverridesSchema).default({}),
}).strict();
export type VariantConfig = z.output<typeof variantConfigSchema>;
export type VariantConfigInput = z.input<typeof variantConfigSchema>;

/** A variant with its config overrides applied: what `declareAll` builds. */
export interface ResolvedVariant {
  variant: Variant;
  description: string;
  /** Modules on, in start-up order. */
  modules: ModuleName[];
  /** Defaults in place of the modules' own (profile, then config). */
  defaults: Record<string, unknown>;
  /** Keys whose default the config (not the profile) sets: `declareAll` refuses one no module declares. */
  configDefaultKeys: string[];
  watermark: boolean;
  factory_test: boolean;
  branding: string;
}

/**
 * Validates a `variant` config block and resolves it against its profile.
 * @throws an Error listing every problem (unknown variant or module, bad key, unknown field).
 */
export function resolveVariant(config: unknown = {}): ResolvedVariant {
  const parsed = variantConfigSchema.safeParse(config ?? {});
  if (!parsed.success) throw new Error(`variant config: ${z.prettifyError(parsed.error)}`);
  const { variant, overrides } = parsed.data;
  const profile = VARIANT_PROFILES[variant];
  const o = overrides[variant] ?? {};
  const on = new Set<ModuleName>(MODULE_NAMES.filter((m) => !profile.off.includes(m)));
  for (const [m, enabled] of Object.entries(o.modules ?? {}) as [ModuleName, boolean][]) {
    if (enabled) on.add(m);
    else on.delete(m);
  }
  return {
    variant,
    description: profile.description,
    modules: MODULE_NAMES.filter((m) => on.has(m)),
    defaults: { ...profile.defaults, ...(o.defaults ?? {}) },
    configDefaultKeys: Object.keys(o.defaults ?? {}),
    watermark: profile.watermark,
    factory_test: profile.factory_test,
    branding: o.branding ?? profile.branding,
  };
}
