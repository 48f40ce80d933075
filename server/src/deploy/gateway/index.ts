/** The gateway's public surface. */
export { startGateway, GATEWAY_NAME, type Gateway, type GatewayOptions } from './gateway';
export { parseGatewayArgs } from './gateway-main';
export { pickTarget, isRetriableStatus, isConnectionFailure, backoffMs, type TargetView } from './router';
export { LoadWindow, percentile, type LoadSnapshot } from './window';
export { DEFAULT_DISPATCH, type DispatchOptions } from './dispatch';
