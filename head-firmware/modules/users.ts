/** The head's users (the seed's `rc_user`), as a read-only list for admins: names and roles, never secrets. */
import { z } from 'zod';
import type { Drivers, UserSummary } from '../drivers/types.ts';
import { ROLES } from '../state/types.ts';
import type { StateStore } from '../state/store.ts';
import { feed, type Teardown } from './common.ts';

/** A user as the state shows it; `.strict()`: a password, hash or token field is refused. */
export const userSummarySchema = z.object({ name: z.string().min(1).max(64), role: z.enum(ROLES) }).strict();

/** Keeps only name and role, whatever else the user database returns. */
const summarize = (users: UserSummary[]): UserSummary[] => users.map((u) => ({ name: u.name, role: u.role }));

/** Declares `users.list` (read: `users_rw`; read-only: users are managed by the user API). */
export function declareUsers(store: StateStore, drivers: Pick<Drivers, 'users'>): Teardown {
  store.declare({
    key: 'users.list', schema: z.array(userSummarySchema), default: summarize(drivers.users.list()), read: ['users_rw'], write: [], persist: false,
    description: 'Users of the head (name and role)',
  });
  return drivers.users.watch((users) => feed(store, 'users.list', summarize(users)));
}
