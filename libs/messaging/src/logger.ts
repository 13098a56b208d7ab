import pino from 'pino';

/** The slice of a pino logger this library uses; a Nest app can adapt its own logger to it. */
export interface MessagingLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function defaultLogger(name: string): MessagingLogger {
  return pino({ name: `messaging:${name}`, level: 'info' });
}
