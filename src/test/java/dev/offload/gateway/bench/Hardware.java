package dev.offload.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** What machine a benchmark ran on, for its report header. */
public final class Hardware {
    private Hardware() {
    }

    public static String cpuModel() {
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

    public static String describe() {
        return String.format("JDK %s, %d cores, %s", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), cpuModel());
    }

    /** The 1, 5 and 15 minute load averages, or "n/a" off Linux. */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "n/a";
        }
    }
}
