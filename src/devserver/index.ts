/**
 * `mautic-tracker/devserver`: the local Mautic stand-in, the dev server around it and its dashboard.
 */
export * from './standin/index.js';
export { startDevServer, PortInUseError, type DevServer, type DevServerOptions } from './dev-server.js';
export { createDashboard, DASHBOARD_BASE, type Dashboard, type DashboardOptions } from './dashboard/handler.js';
export type { DashboardSnapshot, DashboardHit, DashboardEvent, DashboardApiCall, DashboardSource } from './dashboard/snapshot.js';
