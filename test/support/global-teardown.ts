/**
 * Jest globalTeardown: stops the moto server that global-setup.ts started. Does not hang if moto
 * has already exited, or if setup failed before starting it.
 */
export default async function globalTeardown(): Promise<void> {
  const moto = globalThis.rolloutMotoServer;
  globalThis.rolloutMotoServer = undefined;
  await moto?.stop();
}
