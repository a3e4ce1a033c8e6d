// Placeholder entry: replaced by the module's implementation.
export {};
export * from './standin/index.js';
export { startDevServer, PortInUseError, type DevServer, type DevServerOptions } from './dev-server.js';
export { createDashboard, DASHBOARD_BASE, type Dashboard, type DashboardOptions } from './dashboard/handler.js';
export type { DashboardSnapshot, DashboardHit, DashboardEvent, DashboardApiCall, DashboardSource } from './dashboard/snapshot.js';
