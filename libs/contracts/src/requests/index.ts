export * from './request-event.v1';
export * from './request-completed.v1';
export * from './api-key-hash';
export * from './request-event-batch.v1';
export * from './request-completed-batch.v1';
export * from './request-event.fast';
export * from './iso-time';
