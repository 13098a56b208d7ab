export * from './money';
export * from './price-catalog';
export * from './inventory';
export * from './cost-request';
export * from './allocation';
export * from './focus-import';
export * from './reconciliation';
export * from './budgets';
