package dev.offload.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts the packaged gateway jar as a child process on 127.0.0.1 for a benchmark, with its own
 * data directory and log file, and waits until {@code /q/health/ready} answers 200 on its
 * management port ({@link #managementPort}). Called from
 * the benchmark's main thread; the child is stopped by {@link ChildProcess#close()}.
 */
public final class GatewayLauncher {
    private GatewayLauncher() {
    }

    /**
     * @param java       the java executable for the child
     * @param jar        {@code target/quarkus-app/quarkus-run.jar}
     * @param jvmOpts    extra JVM options separated by spaces (may be empty)
     * @param port       the REST port; the gRPC port is {@code quarkus.grpc.server.port} from
     *                   {@code properties}, or a free port when they have none
     * @param workDir    where the data directory and the log go
     * @param label      names the data directory and the log
     * @param properties gateway configuration, passed as {@code -Dkey=value} (in this order)
     */
    /** The API key every benchmark gateway accepts (tenant {@code default}, role device). */
    public static final String BENCH_KEY = "bench-" + java.util.UUID.randomUUID();

    private static final Map<Integer, Integer> MANAGEMENT_PORTS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The management interface port ({@code /q/health/*}, {@code /q/metrics}) of the gateway this
     * launcher started on REST port {@code port}.
     */
    public static int managementPort(int port) {
        Integer p = MANAGEMENT_PORTS.get(port);
        if (p == null) {
            throw new IllegalStateException("no gateway started on port " + port);
        }
        return p;
    }

    public static ChildProcess start(String java, Path jar, String jvmOpts, int port, Path workDir, String label,
                                     Map<String, String> properties) throws Exception {
        return start(java, jar, jvmOpts, port, workDir, label, properties, Duration.ofSeconds(180));
    }

    /**
     * {@link #start(String, Path, String, int, Path, String, Map)} with its own wait for readiness;
     * {@link Duration#ZERO}: no wait (the caller watches readiness itself, e.g. for a replica that must stay down).
     */
    public static ChildProcess start(String java, Path jar, String jvmOpts, int port, Path workDir, String label,
                                     Map<String, String> properties, Duration readyTimeout) throws Exception {
        Path abs = jar.toAbsolutePath();
        if (!Files.isRegularFile(abs)) {
            throw new IllegalStateException("no gateway jar at " + abs + " (run ./mvnw package -DskipTests first)");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-XX:+UseTransparentHugePages"); // as the image runs it (Dockerfile.jvm); jvmOpts may add more
        for (String opt : jvmOpts.split(" ")) {
            if (!opt.isBlank()) {
                cmd.add(opt);
            }
        }
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-Dquarkus.http.host=127.0.0.1");
        cmd.add("-Dquarkus.grpc.server.host=127.0.0.1");
        if (!properties.containsKey("quarkus.grpc.server.port")) {
            cmd.add("-Dquarkus.grpc.server.port=" + ChildProcess.freePort());
        }
        int management = properties.containsKey("quarkus.management.port")
                ? Integer.parseInt(properties.get("quarkus.management.port")) : ChildProcess.freePort();
        MANAGEMENT_PORTS.put(port, management);
        cmd.add("-Dquarkus.management.port=" + management);
        cmd.add("-Dquarkus.management.host=127.0.0.1");
        // Absolute: the child runs in the jar's directory, where a relative path would point elsewhere.
        Path data = workDir.toAbsolutePath().resolve("data-" + label + "-" + System.nanoTime());
        cmd.add("-Dgateway.data-dir=" + data);
        // One key for the whole load ({@link #BENCH_KEY}), as a fleet behind one device key would
        // be; the per-device rate and per-tenant generation limits are lifted so they do not shape
        // the measurement. Properties given by the caller come after and win.
        Files.createDirectories(data);
        Path keys = Files.writeString(data.resolve("bench-keys"),
                dev.offload.gateway.security.KeyRing.sha256Hex(BENCH_KEY) + " default device\n");
        cmd.add("-Dgateway.auth.keys-file=" + keys);
        cmd.add("-Dgateway.limits.device-requests-per-second=1000000");
        cmd.add("-Dgateway.limits.device-burst=1000000");
        cmd.add("-Dgateway.limits.tenant-concurrent-generations=100000");
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(abs.toString());
        System.err.println("[gateway] starting " + label + " on port " + port);
        ChildProcess child = ChildProcess.start("gateway", cmd, abs.getParent(), workDir.resolve("gateway-" + label + ".log"),
                Map.of());
        if (!readyTimeout.isZero()) {
            child.awaitReady(() -> ChildProcess.getOk("http://127.0.0.1:" + management + "/q/health/ready"), readyTimeout);
        }
        return child;
    }

    /** This JVM's own java executable. */
    public static String currentJava() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
