import { PayloadTooLarge } from './errors.js';

/**
 * Rows (the batch dimension) one inference request may carry, whatever protocol it arrives in. An engine
 * runs a request's rows as one batch, so its activations grow with them: 1,000 rows of the 64x64 expression
 * model held a worker for 9-14 s and took 1.8 GB. 64 rows cost about 100 MB there, and clients with more
 * rows split them over several requests, which also lets other clients' requests run in between.
 */
export const DEFAULT_MAX_ROWS_PER_REQUEST = 64;

/** Refuses (413) a request of more than `maxRows` rows; call it before allocating anything per row. */
export function checkRowCount(rows: number, maxRows: number, where: string): void {
  if (rows > maxRows) {
    throw new PayloadTooLarge(`${where} has ${rows} rows; at most ${maxRows} rows are accepted per request: split the rows over several requests`);
  }
}
