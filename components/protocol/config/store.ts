/** `store:` — where the hub keeps its rows: SQLite in the data directory, or PostgreSQL. */
import { z } from 'zod';

/** `postgres://` or `postgresql://` with a host and a database name (credentials optional: libpq's `PGPASSWORD` works too). */
function isPostgresUrl(s: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(s)) return false;
  try {
    const u = new URL(s);
    return u.hostname !== '' && u.pathname.length > 1;
  } catch {
    return false;
  }
}

/** The `store` section of the hub's configuration. */
export const storeSection = z
  .object({
    url: z
      .string()
      .refine(isPostgresUrl, 'must be a postgres://user:password@host:port/database URL')
      .optional()
      .describe(
        'PostgreSQL database (`postgres://user:password@host:5432/vigil`, `?sslmode=require` for TLS); the same migrations run at start. '
          + 'Unset: SQLite in `<data_dir>/vigil.db`. Credentials are never logged or shown (docs/config.md#postgresql).',
      ),
  })
  .strict();
