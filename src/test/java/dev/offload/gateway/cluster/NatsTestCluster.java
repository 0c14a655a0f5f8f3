package dev.offload.gateway.cluster;

import dev.offload.gateway.bench.ChildProcess;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/**
 * A JetStream cluster of real {@code nats-server} processes (Debian's package; {@code .ci/run}
 * installs it) on loopback ports picked free, with file stores under a temporary directory.
 * Nodes can be SIGKILLed and restarted on the same ports and stores. Everything is killed on
 * {@link #close()}.
 */
final class NatsTestCluster implements AutoCloseable {
    private final Path dir;
    private final int[] clientPorts;
    private final int[] routePorts;
    private final ChildProcess[] nodes;
    private final Path config;
    private final Map<String, String> env;
    private final String user;
    private final String password;

    NatsTestCluster(Path dir, int size) throws Exception {
        this(dir, size, null, Map.of(), null, null);
    }

    /**
     * Nodes that also read {@code config} (a nats-server configuration file, e.g. an
     * {@code authorization} block; the command line's flags take precedence) with {@code env} in
     * their environment (what the file's {@code $VARIABLES} resolve to); {@code user} and
     * {@code password} are what this class connects with while it waits for JetStream.
     */
    NatsTestCluster(Path dir, int size, Path config, Map<String, String> env, String user, String password) throws Exception {
        this.dir = dir;
        this.config = config;
        this.env = env;
        this.user = user;
        this.password = password;
        this.clientPorts = new int[size];
        this.routePorts = new int[size];
        this.nodes = new ChildProcess[size];
        for (int i = 0; i < size; i++) {
            clientPorts[i] = ChildProcess.freePort();
            routePorts[i] = ChildProcess.freePort();
        }
        for (int i = 0; i < size; i++) {
            start(i);
        }
        awaitJetStream();
    }

    static String binary() {
        for (String p : List.of("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw new IllegalStateException("nats-server is not installed (apt-get install nats-server; .ci/run does it)");
    }

    void start(int i) throws Exception {
        String routes = java.util.stream.IntStream.range(0, routePorts.length).filter(j -> j != i)
                .mapToObj(j -> "nats://127.0.0.1:" + routePorts[j]).collect(Collectors.joining(","));
        List<String> cmd = new ArrayList<>(List.of(binary()));
        if (config != null) {
            cmd.addAll(List.of("-c", config.toString()));
        }
        cmd.addAll(List.of("-a", "127.0.0.1", "-p", Integer.toString(clientPorts[i]),
                "-n", "n" + i, "--js", "--sd", Files.createDirectories(dir.resolve("n" + i)).toString()));
        if (routePorts.length > 1) { // one node: JetStream standalone (a cluster of one needs routes)
            cmd.addAll(List.of("--cluster_name", "offload", "--cluster", "nats://127.0.0.1:" + routePorts[i], "--routes", routes));
        }
        nodes[i] = ChildProcess.start("nats-n" + i, cmd, dir, log(i), env);
    }

    /** Node {@code i}'s log (stdout and stderr). */
    Path log(int i) {
        return dir.resolve("nats-n" + i + ".log");
    }

    /** SIGKILL of one node (its store stays for a restart). */
    void kill(int i) {
        nodes[i].kill();
        nodes[i] = null;
    }

    boolean isRunning(int i) {
        return nodes[i] != null && nodes[i].isAlive();
    }

    int size() {
        return nodes.length;
    }

    /** Every node's client URL, comma-separated: what {@code gateway.cluster.nats-url} takes. */
    String urls() {
        return java.util.Arrays.stream(clientPorts).mapToObj(p -> "nats://127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** Waits until a client can use JetStream (the meta leader is elected). */
    void awaitJetStream() {
        await("JetStream to elect a leader").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .ignoreExceptions().until(() -> {
                    Options.Builder b = Options.builder().servers(urls().split(",")).maxReconnects(0)
                            .connectionTimeout(Duration.ofSeconds(2));
                    if (user != null) {
                        b.userInfo(user, password);
                    }
                    try (Connection c = Nats.connect(b.build())) {
                        c.jetStreamManagement().getAccountStatistics();
                        return true;
                    }
                });
    }

    @Override
    public void close() {
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] != null) {
                nodes[i].kill();
                nodes[i] = null;
            }
        }
    }
}
