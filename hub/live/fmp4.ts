/**
 * The fMP4 splitter moved to the protocol (`components/protocol/fmp4.ts`): the camera
 * component splits its live stream with it for the bus, the hub's live fan-out for viewers.
 * Re-exported here for the hub's existing importers.
 */
export * from '../../components/protocol/fmp4.ts';
