package dev.offload.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** What machine a benchmark ran on, for its report header. */
final class Hardware {
    private Hardware() {
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (Exception ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    static String describe() {
        return String.format("JDK %s, %d cores, %s", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), cpuModel());
    }
}
