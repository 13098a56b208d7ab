/** The durable JetStream consumer that assembles request events (every replica is a member). */
export const ASSEMBLY_DURABLE = 'tracing-assembly';
