export {
  EventBus,
  type EventBusOptions,
  type EventItem,
  type PublishItem,
  type PublishResult,
  type SerializedEventItem,
  type StreamLimits,
} from './event-bus';
export type { ConsumerBacklog, ConsumerHandle, ConsumerOptions, InboundMessage } from './consumer-runner';
export type { BatchConsumerOptions, BatchOutcome } from './batch-consumer-runner';
export { MessagingError, PoisonMessageError, RetryableError, type MessagingErrorCode } from './errors';
export { parseEach, parseOrPoison } from './parse-or-poison';
export {
  DEFAULT_BACKOFF,
  retryDelayMs,
  settle,
  settleBatch,
  type BackoffPolicy,
  type BatchResult,
  type Settlement,
} from './retry-policy';
export { deadLetterEvent, type DeadLetterInput } from './dead-letter';
export { createNaming, type Naming } from './naming';
export type { MessagingLogger } from './logger';
export { MessagingModule, type MessagingModuleAsyncOptions, type MessagingModuleOptions } from './messaging.module';
export { serveConfigFiles, type ConfigFileOwner } from './config-file-responder';
