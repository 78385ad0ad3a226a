/**
 * Tag categories of recordings (the seed's `rc_tag_categories`): user-made, so they survive
 * a factory reset (the seed's issue #150).
 */
import { z } from 'zod';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

/** One category: `id` a positive integer unique in the list, `name` 1–40 characters, `color` `#rrggbb`. */
export const categorySchema = z.object({
  id: z.number().int().min(1),
  name: z.string().trim().min(1).max(40),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour as #rrggbb'),
}).strict();
export type TagCategory = z.infer<typeof categorySchema>;

/** At most 100 categories with unique ids. */
export const categoriesSchema = z.array(categorySchema).max(100).superRefine((list, ctx) => {
  const seen = new Set<number>();
  list.forEach((c, i) => {
    if (seen.has(c.id)) ctx.addIssue({ code: 'custom', message: `category id ${c.id} is used twice`, path: [i, 'id'] });
    seen.add(c.id);
  });
});

/** The keys a factory reset keeps (`store.factoryReset(FACTORY_RESET_KEEP)`). */
export const FACTORY_RESET_KEEP = ['recording.categories', 'recording.category_counter'] as const;

/** Declares `recording.categories` (default none) and `recording.category_counter` (the last id handed out). */
export function declareTagCategories(store: StateStore): Teardown {
  store.declare({
    key: 'recording.categories', schema: categoriesSchema, default: [], ...rw('recording'), persist: true,
    description: 'Tag categories for recordings (id, name, colour)',
  });
  store.declare({
    key: 'recording.category_counter', schema: z.number().int().min(0), default: 0, ...rw('recording'), persist: true,
    description: 'Last tag category id handed out',
  });
  return noop;
}
