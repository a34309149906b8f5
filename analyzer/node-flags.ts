/**
 * The V8 flags the analyzer runs with: its images' entrypoints and its bin's shebang carry them
 * (a test holds all three to this list), and the tests and benchmarks start it with them.
 * V8 reads them only at start-up (setting them later crashes it), so they cannot live in the code.
 *
 * - A young generation of 1 MiB semi-spaces: once the start-up had grown it to 8 MiB, V8 kept it
 *   there whenever the analyzer allocated more than 1 MB/s (following a 6-rendition ladder at 1 s
 *   segments: 1.5 MB/s), and an old generation within one young generation of its limit then
 *   started a full collection every 2.0 s (22 a minute against 1 for the top rendition alone).
 * - Collection on the main thread: the analyzer's heap is some 15 MB, and waking V8's helper
 *   threads for it (about 22 wake-ups a second on that ladder, against 7) cost more than it saved.
 * Together, measured side by side on that ladder: CPU over its top rendition alone 1.18x -> 1.07-1.12x;
 * a 720p file analysed: 2-5% less CPU.
 */
export const ANALYZER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded-gc'];
