export { MLOffloadClient, type CallOptions, type ClientEvents, type ClientOptions, type EndpointInput } from './client.js';
export { ApiError, NoEndpointError } from './errors.js';
export type { Catalogue, CatalogueChange, CatalogueModel, ModelBenchmark } from './catalogue.js';
export { parseDiscovery, type DiscoveredEndpoint, type DiscoveredModel, type DiscoveryDocument, type Tier } from './discovery.js';
export type { EndpointView, BackoffOptions } from './endpoints.js';
export { DEFAULT_HEDGE, type HedgeOptions } from './hedging.js';
export { imageType, type BinaryInput } from './media.js';
export type { FetchLike, RequestInitLike, ResponseLike } from './transport.js';
export * from './api.js';
