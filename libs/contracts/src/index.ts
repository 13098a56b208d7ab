export * from './cloudevents/envelope';
export * from './subjects';
export * from './metrics/series';
export * from './metrics/metrics-batch.v1';
