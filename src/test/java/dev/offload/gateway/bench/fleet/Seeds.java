package dev.offload.gateway.bench.fleet;

/**
 * Seeds for per-device random streams. {@code java.util.Random} seeded with neighbouring values
 * (seed + device) starts with nearly equal first draws, which bunched every device's first
 * arrival together; each part is therefore passed through the SplitMix64 finaliser (Steele,
 * Lea and Flood 2014) before it becomes a seed.
 */
final class Seeds {
    private Seeds() {
    }

    static long mix(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) {
            h = finalise(h ^ finalise(p + 0x9E3779B97F4A7C15L));
        }
        return h;
    }

    private static long finalise(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
