export { FleetModel, type FleetOptions } from './fleet-model';
export { FleetServer, type FleetServerOptions } from './fleet-server';
export { HttpEventSink, JsonlEventSink, REQUEST_EVENTS_PATH, type EventSink } from './event-sinks';
export { fileSdGroups, scrapeConfigYaml, EXPORTER_META_LABEL, JOBS, type FileSdGroup } from './scrape-targets';
export { type OutagePlan, defaultOutagePlan, isDown } from './load-plan';
export { type Clock, systemClock, seededRandom } from './random';
export { type NodeSpec, MODELS } from './topology';
export { type SimRequestEvent } from './request-events';
export { PROJECTS } from './tenants';
