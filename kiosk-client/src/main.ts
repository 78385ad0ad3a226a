/**
 * Entry of the kiosk bundle (`kiosk-client/build.ts` → `/kiosk/kiosk.js`): defines
 * `<vigil-kiosk>` and its parts. The page shell (`KIOSK_HTML`) holds one `<vigil-kiosk>`.
 * `zod-setup.ts` must stay the first import (it runs before any schema is built).
 */
import './zod-setup.ts';
import './kiosk-app.ts';
