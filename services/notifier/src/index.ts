export { createNotifierApp, type CreateNotifierOptions } from './app';
export { loadNotifierConfig, notifierEnv, type NotifierConfig } from './config';
export { DispatchService } from './dispatch/dispatch.service';
export { EscalationReconciler } from './escalation/escalation.reconciler';
