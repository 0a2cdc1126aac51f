/**
 * The simulator's entry points, loaded lazily so that a runner used only with
 * real engines never loads the simulator's code.
 */
export interface SimModule {
  SIM_MAIN_PATH: string;
  defaultProfileForSystem(systemLabel: string): string;
}

export async function loadSimModule(): Promise<SimModule> {
  const mod = (await import('@kvbench/engine-sim')) as unknown as Partial<SimModule>;
  if (typeof mod.SIM_MAIN_PATH !== 'string' || typeof mod.defaultProfileForSystem !== 'function') {
    throw new Error('@kvbench/engine-sim does not export SIM_MAIN_PATH and defaultProfileForSystem (is it built?)');
  }
  return mod as SimModule;
}
