package dev.offload.gateway.cluster;

import dev.offload.gateway.bench.ChildProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real {@code haproxy} process (Debian's package; {@code .ci/run} installs it) in front of the
 * gateways, standing in for the Kubernetes Service: round robin over the replicas' REST ports,
 * each server checked on its own management port ({@code GET /q/health/ready}), so a replica
 * that is shutting down or catching up gets no requests. The configuration is the one
 * cluster.md recommends ({@link #config}); a stats listener on a second port gives the
 * per-server state, retries and redispatches. Killed on {@link #close()}.
 */
final class HaproxyBalancer implements AutoCloseable {
    private final int port;
    private final int statsPort;
    private final ChildProcess process;

    HaproxyBalancer(Path dir, ClusterGateways gateways) throws Exception {
        this.port = ChildProcess.freePort();
        this.statsPort = ChildProcess.freePort();
        Files.createDirectories(dir);
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), config(port, statsPort, gateways));
        this.process = ChildProcess.start("haproxy", List.of(binary(), "-db", "-f", cfg.toString()), dir,
                dir.resolve("haproxy.log"), Map.of());
        process.awaitReady(() -> {
            Map<String, String> s = serverStates();
            return s.size() == gateways.size() && s.values().stream().allMatch("UP"::equals);
        }, java.time.Duration.ofSeconds(30));
    }

    static String binary() {
        for (String p : List.of("/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw new IllegalStateException("haproxy is not installed (apt-get install haproxy; .ci/run does it)");
    }

    /**
     * The balancer configuration under test. Health: every 500 ms on the management port, one
     * failure takes a server out, two successes bring it back: a replica's readiness goes down
     * at SIGTERM and it serves on for {@code quarkus.shutdown.delay} (5 s in prod), so it is out
     * of rotation well before it stops listening. Retries: only where the request did not reach
     * a gateway's handler (connection refused or reset before any response byte), on another
     * server; every POST of this API may be replayed in that case (searches and queries read,
     * an ingest is an upsert by document id).
     */
    static String config(int port, int statsPort, ClusterGateways gateways) {
        StringBuilder b = new StringBuilder();
        b.append("""
                global
                    maxconn 2000
                defaults
                    mode http
                    timeout connect 2s
                    timeout client 120s
                    timeout server 120s
                    timeout http-keep-alive 10s
                    retries 3
                    option redispatch 1
                    retry-on conn-failure empty-response
                frontend gateways
                    bind 127.0.0.1:%d
                    default_backend gateways
                backend gateways
                    balance roundrobin
                    option httpchk GET /q/health/ready
                    http-check expect status 200
                    default-server inter 500ms fall 1 rise 2
                """.formatted(port));
        for (int i = 0; i < gateways.size(); i++) {
            b.append("    server g").append(i).append(" 127.0.0.1:").append(gateways.httpPort(i))
                    .append(" check port ").append(gateways.managementPort(i)).append('\n');
        }
        b.append("""
                listen stats
                    bind 127.0.0.1:%d
                    stats enable
                    stats uri /stats
                """.formatted(statsPort));
        return b.toString();
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** One row per server of the stats CSV, column name → value. */
    Map<String, Map<String, String>> serverStats() {
        String csv = ChildProcess.get("http://127.0.0.1:" + statsPort + "/stats;csv");
        Map<String, Map<String, String>> rows = new HashMap<>();
        String[] lines = csv.split("\n");
        if (lines.length == 0 || !lines[0].startsWith("# ")) {
            return rows;
        }
        String[] head = lines[0].substring(2).split(",", -1);
        for (int l = 1; l < lines.length; l++) {
            String[] f = lines[l].split(",", -1);
            if (f.length < 2 || !"gateways".equals(f[0]) || "BACKEND".equals(f[1]) || "FRONTEND".equals(f[1])) {
                continue;
            }
            Map<String, String> row = new HashMap<>();
            for (int c = 0; c < Math.min(head.length, f.length); c++) {
                row.put(head[c], f[c]);
            }
            rows.put(f[1], row);
        }
        return rows;
    }

    /** Each server's state as HAProxy sees it (UP, DOWN, "UP 1/2", ...). */
    Map<String, String> serverStates() {
        Map<String, String> states = new HashMap<>();
        serverStats().forEach((name, row) -> states.put(name, row.get("status")));
        return states;
    }

    /** The sum of one counter column over the servers ({@code wretr} retries, {@code wredis} redispatches, ...). */
    long total(String column) {
        return serverStats().values().stream().mapToLong(r -> {
            String v = r.getOrDefault(column, "");
            return v.isEmpty() ? 0 : Long.parseLong(v);
        }).sum();
    }

    @Override
    public void close() throws IOException {
        process.kill();
    }
}
