package dev.offload.gateway.cluster;

import dev.offload.gateway.bench.ChildProcess;
import dev.offload.gateway.bench.GatewayLauncher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Gateway JVMs from the packaged jar ({@code target/quarkus-app/quarkus-run.jar}, so these suites
 * run after {@code package}: failsafe), each with its own data directory and ports that stay the
 * same across a SIGKILL and restart. {@link GatewayLauncher} waits for {@code /q/health/ready},
 * which in cluster mode means caught up with the index log.
 */
final class ClusterGateways implements AutoCloseable {
    static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");

    private final Path dir;
    private final Map<String, String> common;
    private final int[] httpPorts;
    private final int[] grpcPorts;
    private final int[] managementPorts;
    private final ChildProcess[] processes;
    private final int[] starts;

    ClusterGateways(Path dir, int size, Map<String, String> common) throws Exception {
        this(dir, size, size, common);
    }

    /** {@code size} replicas with their ports, of which the first {@code running} are started now (the others by {@link #start}). */
    ClusterGateways(Path dir, int size, int running, Map<String, String> common) throws Exception {
        this.dir = dir;
        this.common = common;
        this.httpPorts = new int[size];
        this.grpcPorts = new int[size];
        this.managementPorts = new int[size];
        this.processes = new ChildProcess[size];
        this.starts = new int[size];
        for (int i = 0; i < size; i++) {
            httpPorts[i] = ChildProcess.freePort();
            grpcPorts[i] = ChildProcess.freePort();
            managementPorts[i] = ChildProcess.freePort(); // fixed too: a load balancer checks readiness there
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, running));
        try {
            Future<?>[] f = new Future<?>[running];
            for (int i = 0; i < running; i++) {
                int n = i;
                f[i] = pool.submit(() -> {
                    start(n);
                    return null;
                });
            }
            for (Future<?> x : f) {
                x.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Starts replica {@code i} on its ports and data directory; returns once it is ready (caught up). */
    long start(int i) throws Exception {
        return start(i, JAR);
    }

    /** {@link #start(int)} from another packaged jar (a benchmark comparing two builds side by side). */
    long start(int i, Path jar) throws Exception {
        return launch(i, jar, java.time.Duration.ofMinutes(10)); // start and catch-up, on shared cores
    }

    /** Starts replica {@code i} without waiting for its readiness (one that must stay not ready). */
    void launch(int i) throws Exception {
        launch(i, JAR, java.time.Duration.ZERO);
    }

    /** Replica {@code i}'s data directory. */
    Path dataDir(int i) {
        return dir.resolve("g" + i).toAbsolutePath();
    }

    private long launch(int i, Path jar, java.time.Duration readyTimeout) throws Exception {
        Map<String, String> p = new LinkedHashMap<>(common);
        p.put("quarkus.grpc.server.port", Integer.toString(grpcPorts[i]));
        p.put("quarkus.management.port", Integer.toString(managementPorts[i]));
        p.put("gateway.data-dir", dataDir(i).toString());
        p.put("gateway.cluster.node-name", "g" + i);
        long t0 = System.nanoTime();
        processes[i] = GatewayLauncher.start(GatewayLauncher.currentJava(), jar, "-Xmx700m -XX:+UseSerialGC", httpPorts[i],
                dir, "g" + i + "-" + (starts[i]++), p, readyTimeout);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /**
     * SIGTERM of replica {@code i}, waiting until it is gone: readiness down, serving on through
     * {@code quarkus.shutdown.delay}, draining in-flight requests, final commit. SIGKILL only
     * after 90 s (more than delay + timeout + commit on loaded cores); returns the exit status.
     */
    int stop(int i) {
        ChildProcess p = processes[i];
        if (p == null) {
            throw new IllegalStateException("replica " + i + " is not running");
        }
        p.close(java.time.Duration.ofSeconds(90));
        processes[i] = null;
        return p.exitStatus();
    }

    /** SIGKILL of replica {@code i}: no shutdown hook, no final commit. */
    void kill(int i) {
        processes[i].kill();
        processes[i] = null;
    }

    boolean isRunning(int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    int size() {
        return processes.length;
    }

    String url(int i) {
        return "http://127.0.0.1:" + httpPorts[i];
    }

    /** Replica {@code i}'s management interface ({@code /q/health/*}, {@code /q/metrics}). */
    String managementUrl(int i) {
        return "http://127.0.0.1:" + managementPorts[i];
    }

    int httpPort(int i) {
        return httpPorts[i];
    }

    /** Replica {@code i}'s management port; the same across restarts. */
    int managementPort(int i) {
        return managementPorts[i];
    }

    int grpcPort(int i) {
        return grpcPorts[i];
    }

    Path log(int i) {
        return processes[i] == null ? null : processes[i].log();
    }

    @Override
    public void close() {
        for (int i = 0; i < processes.length; i++) {
            if (processes[i] != null) {
                processes[i].close();
                processes[i] = null;
            }
        }
    }
}
