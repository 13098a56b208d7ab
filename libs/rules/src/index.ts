export * from './rule-file.loader';
