/**
 * What every browser-driven consumer test needs: the consumer project (installed), a stand-in on
 * 127.0.0.1 playing Mautic, and a Chromium; closed together.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright';
import { startStandin, type Standin } from '../../../src/devserver/index.js';
import { launchChromium } from '../../support/chromium.js';
import { createProject, type ConsumerProject } from './project.js';

export interface Rig {
  app: ConsumerProject;
  mautic: Standin;
  browser: Browser;
  close(): Promise<void>;
}

export async function startRig(
  name: string,
  files: Record<string, string>,
  dependencies: Record<string, string>,
  devDependencies: Record<string, string> = {},
): Promise<Rig> {
  const [app, mautic, browser] = await Promise.all([
    createProject(name, files, dependencies, devDependencies),
    startStandin({ host: '127.0.0.1', port: 0 }),
    launchChromium(),
  ]);
  return {
    app,
    mautic,
    browser,
    close: async () => {
      await Promise.all([browser.close(), mautic.close(), app.close()]);
    },
  };
}

/**
 * A port for a consumer's own server (vite, next start, wrangler dev), which each need a number up
 * front: one the system just handed out as free on 127.0.0.1. (A random pick in 5000-9000 could
 * meet a server of another run or another engineer on this machine, and --strictPort then fails.)
 */
export async function consumerPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
