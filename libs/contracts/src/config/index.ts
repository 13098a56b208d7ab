export * from './config-files.v1';
