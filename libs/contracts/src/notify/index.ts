export * from './notification.v1';
export * from './notify.catalog';
