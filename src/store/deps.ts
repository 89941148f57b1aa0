/**
 * Adds `stores` to the pipeline's dependencies. It is declared here rather than in app.ts only
 * because app.ts was outside the change that introduced it; move it into GatewayDeps (and drop
 * `db`) when app.ts is next edited.
 */
import type { Stores } from './types.js';

declare module '../app.js' {
  interface GatewayDeps {
    /** Every durable store, opened by `openStores` from `storage.url` (admin queries read through it). */
    stores: Stores;
  }
}
