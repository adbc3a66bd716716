// The run config stored in a checkpoint decides the size of the model built to hold its weights, so it is
// validated with the same schema as a config file before anything is allocated: a checkpoint claiming
// width 100 or embeddingDim 1e9 is refused by name instead of attempting multi-gigabyte allocations.
import { ConfigError, describeZodError } from './load.js';
import { PretrainConfig, ModelConfig } from './schema.js';

/** The checkpoint's stored run config, validated; null when it stores none. Errors name the file and the keys. */
export function configFromCheckpoint(scalars: Record<string, unknown>, file: string): PretrainConfig | null {
  if (scalars.config === undefined) return null;
  const result = PretrainConfig.safeParse(scalars.config);
  if (!result.success) throw new ConfigError(describeZodError(result.error, `stored in checkpoint ${file}`));
  return result.data;
}

/** Only the model section (for files whose config is partial, such as exported weights). */
export function modelConfigFromCheckpoint(model: unknown, file: string): ModelConfig {
  const result = ModelConfig.safeParse(model);
  if (!result.success) throw new ConfigError(describeZodError(result.error, `model config stored in checkpoint ${file}`).replace(/^ {2}/gm, '  model.'));
  return result.data;
}
