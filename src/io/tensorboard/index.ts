// TensorBoard output without TensorBoard: scalar event files and the projector's embedding layout.
export { crc32c, maskedCrc32c } from './crc32c.js';
export { EventFileWriter, scalarEvent, fileVersionEvent, tfRecord, EVENT_FILE_VERSION } from './event-file.js';
export { writeProjector, type ProjectorEmbedding } from './projector.js';
export { metricScalars, TENSORBOARD_DIR } from './metric-scalars.js';
