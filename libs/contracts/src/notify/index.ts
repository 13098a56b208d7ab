export * from './notification.v1';
export * from './notify.catalog';
export * from './alert-context.v1';
