// Model shapes are shared with the GPU probe: they live in @kvbench/hardware.
export * from '@kvbench/hardware/shapes';
