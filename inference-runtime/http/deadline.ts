/** The deadline race lives with the data plane's errors; routes written against this path keep working. */
export { raceDeadline, timeoutError } from '../core/deadline.js';
