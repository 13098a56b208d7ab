export * from './yaml-config';
export * from './duration';
