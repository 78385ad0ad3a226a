import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Tests start real servers (brokers, RTSP, ffmpeg, the detector pool): one file at a time on 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
