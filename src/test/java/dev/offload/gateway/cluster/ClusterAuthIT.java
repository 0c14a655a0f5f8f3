package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.gateway.deploy.Manifests;
import dev.offload.gateway.security.KeyRing;
import dev.offload.gateway.sim.SimulatedBackend;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cluster mode under the NATS authorization of the shipped manifests: a {@code nats-server}
 * started with the {@code authorization} block of k8s/base/nats.yaml's nats.conf, as it is
 * written there (user, password from the environment, subject permissions), and gateway JVMs
 * that connect as that user. Every path the gateways use over NATS runs once — the index
 * stream (write on one replica, read-your-writes on the other), the cache stream (an answer
 * stored through one replica hits on the other), the members bucket, the limits' usage
 * subject, the snapshot object store (a third replica on an empty directory bootstraps from a
 * snapshot) — and the server's log must show no permissions violation. A client without the
 * password, or with a wrong one, is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterAuthIT {
    private static final String MIN_SEQ = "X-Offload-Min-Sequence";
    private static final Pattern VIOLATION = Pattern.compile("(?i)(publish|subscription|permissions) violation");

    private final String key = "it-auth-" + UUID.randomUUID();
    /** Starts with a digit on purpose: nats-server reads an unquoted such value as a number (see nats.yaml). */
    private final String password = "7" + HexFormat.of().formatHex(randomBytes());
    private String user;
    private Path dir;
    private NatsTestCluster nats;
    private ClusterGateways gateways;
    private SimulatedBackend backend;
    private Connection connection;

    private static byte[] randomBytes() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return b;
    }

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("cluster-auth-it");
        List<com.fasterxml.jackson.databind.node.ObjectNode> base = Manifests.render(Path.of("k8s/base"));
        String conf = Manifests.get(base, "ConfigMap", "nats-config").at("/data/nats.conf").asText();
        String auth = Manifests.authorizationBlock(conf);
        user = Manifests.get(base, "ConfigMap", "offload-gateway-config").at("/data/GATEWAY_CLUSTER_USER").asText();
        Path natsConf = Files.writeString(dir.resolve("nats-auth.conf"), auth + "\n");
        nats = new NatsTestCluster(dir.resolve("nats"), 1, natsConf, natsEnvironment(base, auth), user, password);
        backend = SimulatedBackend.builder().maxBatchSize(8).stepBase(Duration.ofMillis(2))
                .stepPerSequence(Duration.ofMillis(1)).outputTokens(16).start();
        Path keysFile = Files.writeString(dir.resolve("keys"), KeyRing.sha256Hex(key) + " auth device\n");
        Map<String, String> p = new java.util.HashMap<>();
        p.put("gateway.cluster.nats-url", nats.urls());
        p.put("gateway.cluster.user", user);
        p.put("gateway.cluster.password", password);
        p.put("gateway.cluster.replicas", "1");
        p.put("gateway.auth.keys-file", keysFile.toString());
        p.put("gateway.tiers.edge.base-urls", backend.baseUrl() + "/v1");
        p.put("gateway.index.commit-interval", "1s");
        p.put("gateway.cluster.apply-timeout", "120s");
        p.put("gateway.cluster.snapshot-records", "3");
        p.put("gateway.cluster.snapshot-interval", "1h");
        p.put("gateway.cluster.retention-margin", "0");
        p.put("quarkus.log.console.level", "INFO");
        gateways = new ClusterGateways(dir.resolve("gateways"), 3, 2, p);
        connection = Nats.connect(Options.builder().servers(nats.urls().split(",")).userInfo(user, password)
                .connectionTimeout(Duration.ofSeconds(2)).errorListener(new io.nats.client.ErrorListener() {
                }).build());
    }

    /**
     * The NATS container's password variable as Kubernetes sets it from the manifest: its
     * {@code value} template with each {@code $(NAME)} expanded, the Secret's key being the password.
     */
    private Map<String, String> natsEnvironment(List<com.fasterxml.jackson.databind.node.ObjectNode> base, String auth) {
        java.util.regex.Matcher ref = Pattern.compile("password: \\$([A-Z_]+)").matcher(auth);
        assertTrue(ref.find(), auth);
        JsonNode env = Manifests.get(base, "StatefulSet", "nats").at("/spec/template/spec/containers/0/env");
        String value = null;
        for (JsonNode e : env) {
            if (e.path("name").asText().equals(ref.group(1))) {
                value = e.has("valueFrom") ? password : e.path("value").asText().replaceAll("\\$\\([A-Z_]+\\)", password);
            }
        }
        assertNotNull(value, "the NATS container sets " + ref.group(1));
        return Map.of(ref.group(1), value);
    }

    @AfterAll
    void stop() throws Exception {
        if (gateways != null) {
            gateways.close();
        }
        if (connection != null) {
            connection.close();
        }
        if (nats != null) {
            nats.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private long ingest(int replica, String id, String text) throws InterruptedException {
        Http.Reply r = Http.post(gateways.url(replica) + "/v1/documents", key,
                Map.of("documents", List.of(Map.of("id", id, "title", "", "text", text))), Map.of());
        assertEquals(200, r.status(), r.toString());
        return r.body().get("sequence").asLong();
    }

    @Test
    @Order(1)
    void everyPathTheGatewaysUseOverNatsRunsUnderTheManifestsPermissions() throws Exception {
        // The usage reports travel on a core subject: a subscriber with the gateways' permissions sees them.
        Subscription usage = connection.subscribe(clusterDefault("usageSubject"));
        long seq = 0;
        for (int i = 0; i < 6; i++) {
            seq = ingest(i % 2, "auth-" + i, "Maintenance note " + i + ": the compressor on line " + i
                    + " was inspected and its filter replaced by the day shift.");
        }
        for (int i = 0; i < 6; i++) { // index stream: written through one replica, read on the other
            Http.Reply r = Http.get(gateways.url((i + 1) % 2) + "/v1/documents/auth-" + i, key, Map.of(MIN_SEQ, Long.toString(seq)));
            assertEquals(200, r.status(), r.toString());
        }
        String question = "When was the compressor filter on line three replaced?";
        Map<String, Object> ask = Map.of("query", question);
        Http.Reply generated = Http.post(gateways.url(0) + "/v1/query", key, ask, Map.of(MIN_SEQ, Long.toString(seq)));
        assertEquals(200, generated.status(), generated.toString());
        assertEquals("edge", generated.body().get("servedBy").asText(), generated.toString());
        await("the entry stored through g0 to hit on g1 (cache stream)").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200)).until(() -> "cache".equals(Http.post(gateways.url(1) + "/v1/query", key,
                        Map.of("query", question, "generate", "never"), Map.of()).body().get("servedBy").asText()));
        for (int g = 0; g < 2; g++) { // members bucket
            int gw = g;
            await("g" + gw + " to list both members").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        Http.Reply s = Http.get(gateways.url(gw) + "/v1/index/stats", key, Map.of());
                        JsonNode c = s.status() == 200 ? s.body().get("cluster") : null;
                        return c != null && c.get("members").size() == 2 && "cluster".equals(c.get("limits").asText());
                    });
        }
        assertNotNull(usage.nextMessage(Duration.ofSeconds(10)), "a usage report arrived on " + clusterDefault("usageSubject"));
        SnapshotStore store = new SnapshotStore(() -> connection, clusterDefault("snapshotBucket"), 1);
        await("a snapshot in the object store").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(() -> !store.list().isEmpty());

        // A third replica on an empty data directory installs it (object store read) and follows the stream.
        gateways.start(2);
        JsonNode health = Http.get(gateways.managementUrl(2) + "/q/health/ready", null, Map.of()).body();
        assertTrue(health.toString().contains("bootstrapSnapshot"), health.toString());
        Http.Reply stats = Http.get(gateways.url(2) + "/v1/index/stats", key, Map.of(MIN_SEQ, Long.toString(seq)));
        assertEquals(200, stats.status(), stats.toString());
        assertEquals(6, stats.body().get("documents").asLong(), stats.toString());

        String natsLog = Files.readString(nats.log(0));
        assertTrue(natsLog.lines().noneMatch(l -> VIOLATION.matcher(l).find()),
                "no permissions violation in " + nats.log(0) + ":\n" + natsLog.lines().filter(l -> VIOLATION.matcher(l).find())
                        .limit(10).reduce("", (a, b) -> a + b + "\n"));
        for (int g = 0; g < 3; g++) {
            String log = Files.readString(gateways.log(g));
            assertTrue(!log.contains("NATS server error"), "g" + g + " was refused nothing by NATS: " + gateways.log(g));
        }
    }

    @Test
    @Order(2)
    void aClientWithoutTheGatewaysPasswordIsRefused() {
        IOException anonymous = assertThrows(IOException.class, () -> Nats.connect(Options.builder()
                .servers(nats.urls().split(",")).maxReconnects(0).connectionTimeout(Duration.ofSeconds(2)).build()).close());
        assertTrue(anonymous.getMessage().toLowerCase(java.util.Locale.ROOT).contains("authorization"), anonymous.getMessage());
        IOException wrong = assertThrows(IOException.class, () -> Nats.connect(Options.builder()
                .servers(nats.urls().split(",")).userInfo(user, password + "x").maxReconnects(0)
                .connectionTimeout(Duration.ofSeconds(2)).build()).close());
        assertTrue(wrong.getMessage().toLowerCase(java.util.Locale.ROOT).contains("authorization"), wrong.getMessage());
    }

    private static String clusterDefault(String method) {
        try {
            return ClusterConfig.class.getMethod(method).getAnnotation(io.smallrye.config.WithDefault.class).value();
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }
}
