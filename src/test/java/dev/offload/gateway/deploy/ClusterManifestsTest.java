package dev.offload.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.gateway.cluster.ClusterConfig;
import dev.offload.gateway.cluster.NatsCluster;
import io.smallrye.config.WithDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.offload.gateway.deploy.DeploymentManifestsTest.gatewayContainer;
import static dev.offload.gateway.deploy.DeploymentManifestsTest.gatewayEnv;
import static dev.offload.gateway.deploy.DeploymentManifestsTest.gatewayWorkload;
import static dev.offload.gateway.deploy.DeploymentManifestsTest.labels;
import static dev.offload.gateway.deploy.DeploymentManifestsTest.managementPort;
import static dev.offload.gateway.deploy.DeploymentManifestsTest.selected;
import static dev.offload.gateway.deploy.Manifests.find;
import static dev.offload.gateway.deploy.Manifests.get;
import static dev.offload.gateway.deploy.Manifests.ofKind;
import static dev.offload.gateway.deploy.Manifests.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster layout (k8s/base and the cell-site overlay: 3 gateway replicas on a 3-node NATS
 * JetStream cluster) and the single-pod overlay, held against each other and the application:
 * replicas, update strategy, disruption budgets, anti-affinity, each replica's own index volume,
 * NATS routes and the gateways' NATS URL, network paths; and docker-compose's cluster profile.
 */
class ClusterManifestsTest {
    static final Path SINGLE_POD = DeploymentManifestsTest.SINGLE_POD;

    private static int port(JsonNode container, String name) {
        return stream(container.path("ports")).filter(p -> p.path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no port " + name)).path("containerPort").asInt();
    }

    private static void assertAntiAffinity(ObjectNode workload) {
        JsonNode terms = workload.at("/spec/template/spec/affinity/podAntiAffinity");
        List<JsonNode> all = new ArrayList<>();
        terms.path("requiredDuringSchedulingIgnoredDuringExecution").forEach(all::add);
        terms.path("preferredDuringSchedulingIgnoredDuringExecution").forEach(t -> all.add(t.path("podAffinityTerm")));
        String name = workload.at("/metadata/name").asText();
        assertFalse(all.isEmpty(), name + " has pod anti-affinity");
        Map<String, String> podLabels = labels(workload.at("/spec/template/metadata/labels"));
        assertTrue(all.stream().anyMatch(t -> t.path("topologyKey").asText().equals("kubernetes.io/hostname")
                        && podLabels.entrySet().containsAll(labels(t.at("/labelSelector/matchLabels")).entrySet())),
                name + ": its replicas keep apart by node, selecting its own pods");
    }

    private static ObjectNode pdbOf(List<ObjectNode> r, ObjectNode workload) {
        String name = workload.at("/metadata/name").asText();
        List<ObjectNode> pdbs = ofKind(r, "PodDisruptionBudget").stream()
                .filter(p -> selected(r, p.at("/spec/selector/matchLabels")).equals(List.of(name))).toList();
        assertEquals(1, pdbs.size(), "one PodDisruptionBudget for " + name);
        return pdbs.get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example"})
    void threeGatewayReplicasRollOneAtATimeAndWaitForCatchUp(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode gw = gatewayWorkload(r);
        assertEquals("StatefulSet", gw.path("kind").asText());
        int replicas = gw.at("/spec/replicas").asInt();
        assertEquals(3, replicas);
        assertEquals("RollingUpdate", gw.at("/spec/updateStrategy/type").asText());
        assertEquals(0, gw.at("/spec/updateStrategy/rollingUpdate/partition").asInt(), "every replica is updated");
        ObjectNode pdb = pdbOf(r, gw);
        int minAvailable = pdb.at("/spec/minAvailable").asInt();
        assertTrue(minAvailable >= 1 && minAvailable < replicas, "PDB minAvailable " + minAvailable + " < replicas " + replicas);
        assertAntiAffinity(gw);
        ObjectNode c = gatewayContainer(r);
        assertEquals("/q/health/ready", c.at("/readinessProbe/httpGet/path").asText(),
                "readiness: index open and, in cluster mode, the stream's tail applied");
        assertEquals("management", c.at("/readinessProbe/httpGet/port").asText());
        assertEquals(managementPort(), port(c, "management"));
        // The governing Service is headless and is not the device-facing one.
        ObjectNode governing = get(r, "Service", gw.at("/spec/serviceName").asText());
        assertEquals("None", governing.at("/spec/clusterIP").asText());
        assertFalse(governing.at("/metadata/name").asText().equals("offload-gateway"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example"})
    void eachReplicaHasItsOwnIndexVolume(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode gw = gatewayWorkload(r);
        String dataDir = gatewayEnv(r).get("GATEWAY_DATA_DIR");
        JsonNode mount = stream(gatewayContainer(r).path("volumeMounts"))
                .filter(m -> m.path("mountPath").asText().equals(dataDir)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at GATEWAY_DATA_DIR " + dataDir));
        JsonNode template = stream(gw.at("/spec/volumeClaimTemplates"))
                .filter(t -> t.at("/metadata/name").equals(mount.path("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("the data mount is a volumeClaimTemplate: one volume per replica"));
        assertEquals(List.of("ReadWriteOnce"), stream(template.at("/spec/accessModes")).map(JsonNode::asText).toList());
        assertTrue(stream(gw.at("/spec/template/spec/volumes")).noneMatch(v -> v.path("name").equals(mount.path("name"))),
                "no pod volume shadows the per-replica claim");
        assertTrue(ofKind(r, "PersistentVolumeClaim").isEmpty(), "no claim shared by the replicas");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example"})
    void natsIsAThreeNodeJetStreamClusterRoutedThroughItsHeadlessService(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode nats = get(r, "StatefulSet", "nats");
        int replicas = nats.at("/spec/replicas").asInt();
        assertEquals(3, replicas);
        JsonNode c = nats.at("/spec/template/spec/containers/0");
        assertTrue(c.path("image").asText().startsWith("nats:2.10"), c.path("image").asText());
        ObjectNode svc = get(r, "Service", nats.at("/spec/serviceName").asText());
        assertEquals("None", svc.at("/spec/clusterIP").asText(), "per-pod DNS names");
        assertTrue(svc.at("/spec/publishNotReadyAddresses").asBoolean(), "routes form before the nodes are ready");
        assertEquals(List.of("nats"), selected(r, svc.at("/spec/selector")));
        int clientPort = port(c, "client");
        int clusterPort = port(c, "cluster");
        int monitorPort = port(c, "monitor");

        // The config the container reads: JetStream on file storage under the data volume, routes to every node.
        List<String> args = stream(c.path("args")).map(JsonNode::asText).toList();
        String configPath = args.get(args.indexOf("--config") + 1);
        JsonNode configMount = stream(c.path("volumeMounts"))
                .filter(m -> configPath.startsWith(m.path("mountPath").asText() + "/")).findFirst().orElseThrow();
        JsonNode configVolume = stream(nats.at("/spec/template/spec/volumes"))
                .filter(v -> v.path("name").equals(configMount.path("name"))).findFirst().orElseThrow();
        String conf = get(r, "ConfigMap", configVolume.at("/configMap/name").asText()).at("/data")
                .path(Path.of(configPath).getFileName().toString()).asText();
        assertTrue(conf.contains("jetstream {"), "JetStream enabled");
        Matcher store = Pattern.compile("store_dir:\\s*(\\S+)").matcher(conf);
        assertTrue(store.find());
        JsonNode dataMount = stream(c.path("volumeMounts")).filter(m -> store.group(1).startsWith(m.path("mountPath").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("the store dir is on a volume"));
        assertTrue(stream(nats.at("/spec/volumeClaimTemplates")).anyMatch(t -> t.at("/metadata/name").equals(dataMount.path("name"))),
                "file storage on a claim per node");
        assertTrue(conf.contains("listen: 0.0.0.0:" + clientPort));
        assertTrue(conf.contains("http: 0.0.0.0:" + monitorPort));
        assertTrue(conf.contains("listen: 0.0.0.0:" + clusterPort));
        assertTrue(conf.contains("server_name: $POD_NAME"), "unique server names, which JetStream clustering needs");
        assertTrue(stream(c.path("env")).anyMatch(e -> e.path("name").asText().equals("POD_NAME")
                && e.at("/valueFrom/fieldRef/fieldPath").asText().equals("metadata.name")));
        for (int i = 0; i < replicas; i++) {
            String route = "nats://nats-" + i + "." + svc.at("/metadata/name").asText() + ":" + clusterPort;
            assertTrue(conf.contains(route), "route " + route);
        }
        assertEquals("monitor", c.at("/readinessProbe/httpGet/port").asText());
        assertTrue(c.at("/readinessProbe/httpGet/path").asText().startsWith("/healthz"));

        ObjectNode pdb = pdbOf(r, nats);
        assertEquals(1, pdb.at("/spec/maxUnavailable").asInt(), "one node at a time: the quorum (2 of 3) holds");
        assertAntiAffinity(nats);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example"})
    void theGatewaysReachEveryNatsNodeByName(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode nats = get(r, "StatefulSet", "nats");
        int clientPort = port(nats.at("/spec/template/spec/containers/0"), "client");
        String service = nats.at("/spec/serviceName").asText();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < nats.at("/spec/replicas").asInt(); i++) {
            expected.add("nats://nats-" + i + "." + service + ":" + clientPort);
        }
        String urls = gatewayEnv(r).get("GATEWAY_CLUSTER_NATS_URL");
        assertEquals(expected, List.of(urls.split(",")));
        for (String u : expected) {
            assertEquals("nats", URI.create(u).getScheme());
        }
        // Network: gateway → NATS client port allowed both ways; NATS nodes → each other on the cluster port.
        ObjectNode gwPolicy = get(r, "NetworkPolicy", "offload-gateway");
        assertTrue(stream(gwPolicy.at("/spec/egress")).anyMatch(e -> e.at("/to/0/podSelector/matchLabels/app.kubernetes.io~1name")
                .asText().equals("nats") && e.at("/ports/0/port").asInt() == clientPort), "the gateway may reach NATS");
        ObjectNode natsPolicy = get(r, "NetworkPolicy", "nats");
        assertEquals(List.of("nats"), selected(r, natsPolicy.at("/spec/podSelector/matchLabels")));
        assertTrue(stream(natsPolicy.at("/spec/ingress")).anyMatch(i -> i.at("/from/0/podSelector/matchLabels/app.kubernetes.io~1name")
                .asText().equals("offload-gateway") && i.at("/ports/0/port").asInt() == clientPort));
        int clusterPort = port(nats.at("/spec/template/spec/containers/0"), "cluster");
        assertTrue(stream(natsPolicy.at("/spec/ingress")).anyMatch(i -> i.at("/from/0/podSelector/matchLabels/app.kubernetes.io~1name")
                .asText().equals("nats") && i.at("/ports/0/port").asInt() == clusterPort));
    }

    /** The default of one {@code gateway.cluster.*} key, read from the mapping's annotation. */
    private static String clusterDefault(String method) {
        try {
            return ClusterConfig.class.getMethod(method).getAnnotation(WithDefault.class).value();
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> quoted(String list) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]+)\"").matcher(list);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example"})
    void natsLetsInOnlyTheGatewaysUserAndOnlyToTheSubjectsTheGatewayUses(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        String conf = get(r, "ConfigMap", "nats-config").at("/data/nats.conf").asText();
        String auth = Manifests.authorizationBlock(conf);
        Map<String, String> env = gatewayEnv(r);
        String user = env.get("GATEWAY_CLUSTER_USER");
        assertTrue(user != null && auth.contains("user: " + user), "the gateways' user " + user + " is NATS's: " + auth);
        Matcher pw = Pattern.compile("password: \\$([A-Z_]+)").matcher(auth);
        assertTrue(pw.find(), "the password comes from the environment, not the ConfigMap");
        // NATS and the gateways read the password from the same Secret key.
        JsonNode natsEnv = get(r, "StatefulSet", "nats").at("/spec/template/spec/containers/0/env");
        // nats-server parses the variable's value as a config value, so it must arrive quoted: "$(RAW)",
        // RAW being the Secret's key (Kubernetes expands $(…) from the container's earlier variables).
        String template = stream(natsEnv).filter(e -> e.path("name").asText().equals(pw.group(1))).findFirst()
                .orElseThrow(() -> new AssertionError("the NATS container sets " + pw.group(1))).path("value").asText();
        Matcher raw = Pattern.compile("^\"\\$\\(([A-Z_]+)\\)\"$").matcher(template);
        assertTrue(raw.find(), pw.group(1) + " is the Secret's value in double quotes: " + template);
        List<String> names = stream(natsEnv).map(e -> e.path("name").asText()).toList();
        assertTrue(names.indexOf(raw.group(1)) >= 0 && names.indexOf(raw.group(1)) < names.indexOf(pw.group(1)),
                raw.group(1) + " is defined before " + pw.group(1) + " (Kubernetes expands only earlier variables)");
        JsonNode natsSecret = stream(natsEnv).filter(e -> e.path("name").asText().equals(raw.group(1))).findFirst()
                .orElseThrow().at("/valueFrom/secretKeyRef");
        JsonNode gwSecret = stream(gatewayContainer(r).path("env")).filter(e -> e.path("name").asText().equals("GATEWAY_CLUSTER_PASSWORD"))
                .findFirst().orElseThrow(() -> new AssertionError("the gateway sets GATEWAY_CLUSTER_PASSWORD")).at("/valueFrom/secretKeyRef");
        assertEquals(natsSecret.path("name").asText(), gwSecret.path("name").asText());
        assertEquals(natsSecret.path("key").asText(), gwSecret.path("key").asText());
        assertFalse(natsSecret.path("optional").asBoolean(false), "no NATS without its password");

        int pub = auth.indexOf("publish:");
        int sub = auth.indexOf("subscribe:");
        List<String> publish = quoted(auth.substring(pub, sub));
        List<String> subscribe = quoted(auth.substring(sub));
        List<String> needed = List.of(
                clusterDefault("stream").toLowerCase(java.util.Locale.ROOT) + NatsCluster.INDEX_SUBJECT_SUFFIX,
                clusterDefault("cacheStream").toLowerCase(java.util.Locale.ROOT) + NatsCluster.CACHE_SUBJECT_SUFFIX,
                "$KV." + clusterDefault("membersBucket") + ".>", "$O." + clusterDefault("snapshotBucket") + ".>",
                clusterDefault("usageSubject"), "$JS.API.>");
        assertTrue(publish.containsAll(needed), "publish " + publish + " allows " + needed);
        assertTrue(subscribe.containsAll(List.of("_INBOX.>", clusterDefault("usageSubject"))), "subscribe " + subscribe);
        assertFalse(publish.contains(">") || subscribe.contains(">"), "not everything");
    }

    @Test
    void theSinglePodOverlayIsTheOldLayoutWithoutNats() {
        List<ObjectNode> r = Manifests.render(SINGLE_POD);
        ObjectNode gw = gatewayWorkload(r);
        assertEquals("Deployment", gw.path("kind").asText());
        assertEquals(1, gw.at("/spec/replicas").asInt());
        assertEquals("Recreate", gw.at("/spec/strategy/type").asText());
        assertTrue(find(r, "StatefulSet", "nats").isEmpty());
        assertTrue(find(r, "Service", "nats").isEmpty());
        assertTrue(find(r, "ConfigMap", "nats-config").isEmpty());
        assertTrue(find(r, "PodDisruptionBudget", "nats").isEmpty());
        assertTrue(find(r, "NetworkPolicy", "nats").isEmpty());
        assertTrue(find(r, "Service", "offload-gateway-headless").isEmpty());
        assertFalse(gatewayEnv(r).containsKey("GATEWAY_CLUSTER_NATS_URL"), "no cluster mode: the local write-ahead log");
        assertEquals(1, pdbOf(r, gw).at("/spec/minAvailable").asInt());
        // The devices' Service, the management Service, the probes are the same as the cluster's.
        List<ObjectNode> base = Manifests.render(DeploymentManifestsTest.BASE);
        assertEquals(get(base, "Service", "offload-gateway"), get(r, "Service", "offload-gateway"));
        assertEquals(get(base, "Service", "offload-gateway-management"), get(r, "Service", "offload-gateway-management"));
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertEquals(gatewayContainer(base).at("/" + probe + "/httpGet"), gatewayContainer(r).at("/" + probe + "/httpGet"), probe);
        }
    }

    @Test
    void composeRunsAClusterProfileBesideTheSimpleDefault() {
        JsonNode services = DeploymentManifestsTest.compose().path("services");
        // The default: no profile on the gateway, no NATS URL unless the cluster command sets it.
        assertTrue(services.at("/gateway/profiles").isMissingNode(), "docker compose up runs the gateway");
        assertEquals("${GATEWAY_CLUSTER_NATS_URL:-}", services.at("/gateway/environment/GATEWAY_CLUSTER_NATS_URL").asText());
        JsonNode nats = services.path("nats");
        assertEquals(List.of("cluster"), stream(nats.path("profiles")).map(JsonNode::asText).toList());
        assertTrue(nats.path("image").asText().startsWith("nats:2.10"));
        List<String> natsArgs = stream(nats.path("command")).map(JsonNode::asText).toList();
        assertTrue(natsArgs.contains("--jetstream"), "JetStream on");
        String storeDir = natsArgs.get(natsArgs.indexOf("--store_dir") + 1);
        assertTrue(stream(nats.path("volumes")).anyMatch(v -> v.asText().endsWith(":" + storeDir)), "file storage on a volume");
        List<String> dataVolumes = new ArrayList<>();
        for (String name : List.of("gateway-2", "gateway-3")) {
            JsonNode g = services.path(name);
            assertEquals(List.of("cluster"), stream(g.path("profiles")).map(JsonNode::asText).toList(), name);
            Map<String, String> env = DeploymentManifestsTest.composeEnv(name);
            DeploymentManifestsTest.assertConfigKeys(env.keySet(), "docker-compose.yml " + name);
            assertEquals("${GATEWAY_CLUSTER_NATS_URL:-nats://nats:4222}", env.get("GATEWAY_CLUSTER_NATS_URL"));
            assertEquals(DeploymentManifestsTest.composeEnv("gateway").get("GATEWAY_TIERS_EDGE_BASE_URLS"), env.get("GATEWAY_TIERS_EDGE_BASE_URLS"));
            assertEquals("service_healthy", g.at("/depends_on/nats/condition").asText());
            assertTrue(stream(g.at("/healthcheck/test")).anyMatch(a -> a.asText().equals(
                    "http://localhost:" + managementPort() + "/q/health/ready")));
            String volume = stream(g.path("volumes")).map(JsonNode::asText)
                    .filter(v -> v.endsWith(":" + env.get("GATEWAY_DATA_DIR"))).findFirst().orElseThrow();
            dataVolumes.add(volume.split(":")[0]);
        }
        dataVolumes.add(stream(services.at("/gateway/volumes")).map(JsonNode::asText).filter(v -> v.contains(":/var/lib/"))
                .findFirst().orElseThrow().split(":")[0]);
        assertEquals(3, dataVolumes.stream().distinct().count(), "each replica its own index volume: " + dataVolumes);
        URI nat = URI.create("nats://nats:4222");
        assertTrue(services.has(nat.getHost()), "the URL names the nats service");
    }
}
