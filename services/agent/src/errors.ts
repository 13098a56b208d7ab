import { defineErrorCodes } from './runtime-lite';

/** Error codes of the agent on top of the common ones (nvidia-smi's own are NvidiaSmiError codes, @arcwatch/gpu-telemetry). */
export const AgentError = defineErrorCodes('AgentError', {
  SPOOL_RECORD_INVALID: { status: 500, disposition: 'ack' },
});
export type AgentError = InstanceType<typeof AgentError>;
