/** The backend contract lives in core (every layer speaks it); backends implement it from here as before. */
export type * from '../core/backend.js';
