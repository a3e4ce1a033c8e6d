/**
 * What every browser-driven consumer test needs: the consumer project (installed), a stand-in on
 * 127.0.0.1 playing Mautic, and a Chromium; closed together.
 */
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
