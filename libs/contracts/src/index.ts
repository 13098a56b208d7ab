export * from './cloudevents/envelope';
export * from './subjects';
export * from './metrics/series';
export * from './metrics/metrics-batch.v1';
export * from './messaging/dead-letter.v1';
export * from './requests';
