export * from './yaml-config';
export * from './duration';
export * from './atomic-write';
