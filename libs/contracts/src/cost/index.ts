export * from './cost-allocated.v1';
export * from './cost-reconciled.v1';
export * from './budget.v1';
