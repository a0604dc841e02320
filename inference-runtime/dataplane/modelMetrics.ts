import { Counter, Histogram, type Registry } from 'prom-client';
import { DomainError } from '../core/errors.js';

/** What an inference ended with, as a metrics label: `ok`, or the failure's HTTP status class. */
export type InferenceOutcome = 'ok' | 'invalid' | 'not_found' | 'unavailable' | 'timeout' | 'error';

export function outcomeOf(result: unknown): InferenceOutcome {
  if (result === 'ok') return 'ok';
  if (!(result instanceof DomainError)) return 'error';
  if (result.status === 504) return 'timeout';
  if (result.status === 503) return 'unavailable';
  if (result.status === 404) return 'not_found';
  if (result.status >= 400 && result.status < 500) return 'invalid';
  return 'error';
}

/**
 * Per-model inference metrics, whichever protocol or task API asked: `mloffload_model_inferences_total`
 * by outcome and `mloffload_model_inference_seconds` (queueing in the batcher and worker pool included).
 */
export class ModelMetrics {
  private readonly count?: Counter<'model' | 'version' | 'outcome'>;
  private readonly seconds?: Histogram<'model' | 'version'>;

  constructor(registry?: Registry) {
    if (!registry) return;
    // One set per prom registry: several planes over one registry (tests, embedding) share it.
    this.count =
      (registry.getSingleMetric('mloffload_model_inferences_total') as Counter<'model' | 'version' | 'outcome'> | undefined) ??
      new Counter({ name: 'mloffload_model_inferences_total', help: 'Inferences per model by outcome (ok, invalid, not_found, unavailable, timeout, error)', labelNames: ['model', 'version', 'outcome'], registers: [registry] });
    this.seconds =
      (registry.getSingleMetric('mloffload_model_inference_seconds') as Histogram<'model' | 'version'> | undefined) ??
      new Histogram({
        name: 'mloffload_model_inference_seconds',
        help: 'Time from handing inputs to the data plane to the outputs, per model (queueing included)',
        labelNames: ['model', 'version'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      });
  }

  observe(model: { name: string; version: string }, seconds: number, result: unknown): void {
    const labels = { model: model.name, version: model.version };
    this.count?.inc({ model: labels.model, version: labels.version, outcome: outcomeOf(result) });
    if (result === 'ok') this.seconds?.observe(labels, seconds);
  }
}
