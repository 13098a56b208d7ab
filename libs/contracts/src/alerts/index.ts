export * from './alert.v1';
