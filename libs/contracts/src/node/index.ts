export * from './gpu-error.v1';
