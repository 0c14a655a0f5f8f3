package dev.offload.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.gateway.security.KeyRing;
import io.smallrye.config.common.utils.StringUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.offload.gateway.deploy.Manifests.get;
import static dev.offload.gateway.deploy.Manifests.ofKind;
import static dev.offload.gateway.deploy.Manifests.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployment files against the application: every YAML/JSON under k8s/ and
 * docker-compose.yml parsed, kustomizations complete, and every place where a manifest repeats
 * something the code or another manifest decides (port, config keys, metrics path, data dir,
 * JVM flags, model name, batch size, replica addresses, selectors) checked to agree. What needs
 * the running gateway (probe paths answering, metric names in the dashboard and autoscaler
 * being exported) is in {@code ObservabilityContractTest}.
 */
class DeploymentManifestsTest {
    static final Path BASE = Manifests.K8S.resolve("base");
    static final Path OVERLAY = Manifests.K8S.resolve("overlays/cell-site-example");
    static final Path SINGLE_POD = Manifests.K8S.resolve("overlays/single-pod");
    static final Path DASHBOARD = Manifests.K8S.resolve("monitoring/grafana/dashboards/offload-gateway.json");
    static final Path ADAPTER = Manifests.K8S.resolve("monitoring/prometheus-adapter-values.yaml");

    /**
     * Keys the manifests set for features being built in parallel, with the issue that brings
     * them. Allowed to be absent from the code; once they exist they are checked like any other.
     */
    static final Map<String, String> PENDING_KEYS = Map.of("gateway.cluster.nats-url", "#19 cluster mode (package cluster/)");

    static int httpPort() {
        return Integer.parseInt(ConfigKeys.prodValue("quarkus.http.port"));
    }

    static int grpcPort() {
        return Integer.parseInt(ConfigKeys.prodValue("quarkus.grpc.server.port"));
    }

    static int managementPort() {
        assertEquals("true", ConfigKeys.prodValue("quarkus.management.enabled"), "health and metrics on the management interface");
        return Integer.parseInt(ConfigKeys.prodValue("quarkus.management.port"));
    }

    static String metricsPath() {
        return ConfigKeys.prodValue("quarkus.micrometer.export.prometheus.path");
    }

    // ---- every file parses; kustomizations are complete ----

    @Test
    void everyYamlAndJsonFileParses() {
        List<Path> files = Manifests.allFiles();
        assertTrue(files.size() >= 20, "found only " + files);
        for (Path f : files) {
            List<JsonNode> docs = Manifests.read(f);
            assertFalse(docs.isEmpty(), f + " has no document");
            for (JsonNode d : docs) {
                if (d.has("kind") && d.has("apiVersion") && !d.path("kind").asText().equals("Kustomization")) {
                    assertFalse(d.path("metadata").path("name").asText().isEmpty(), f + ": a " + d.get("kind") + " without a name");
                }
            }
        }
    }

    @Test
    void kustomizationsNameOnlyFilesThatExistAndForgetNone() throws IOException {
        List<Path> kustomizations;
        try (Stream<Path> s = Files.walk(Manifests.K8S)) {
            kustomizations = s.filter(p -> p.getFileName().toString().equals("kustomization.yaml")).toList();
        }
        assertEquals(4, kustomizations.size(), "base, two overlays, monitoring: " + kustomizations);
        for (Path k : kustomizations) {
            Path dir = k.getParent();
            List<Path> referenced = Manifests.referencedPaths(dir);
            for (Path p : referenced) {
                assertTrue(Files.exists(p), k + " names " + p + ", which does not exist");
                if (Files.isDirectory(p)) {
                    assertTrue(Files.exists(p.resolve("kustomization.yaml")), k + " names directory " + p + " without a kustomization");
                }
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("kustomization.yaml")
                        && !p.getFileName().toString().equals("prometheus-adapter-values.yaml")).toList()) {
                    assertTrue(referenced.contains(f.normalize()), k + " does not use " + f);
                }
            }
        }
        List<Path> overlayResources = Manifests.referencedPaths(OVERLAY);
        assertTrue(overlayResources.contains(BASE.normalize()), "the overlay builds on k8s/base: " + overlayResources);
        assertEquals(List.of(DASHBOARD.normalize()), Manifests.referencedPaths(Manifests.K8S.resolve("monitoring")),
                "the monitoring kustomization ships the dashboard");
    }

    @Test
    void theOverlayPatchesResourcesOfTheBaseAndSetsItsNamespace() {
        List<ObjectNode> overlay = Manifests.render(OVERLAY); // throws if a patch matches nothing
        String ns = Manifests.readOne(OVERLAY.resolve("kustomization.yaml")).path("namespace").asText();
        assertFalse(ns.isEmpty());
        assertNotNull(get(overlay, "Namespace", ns));
        for (ObjectNode o : overlay) {
            if (!o.path("kind").asText().equals("Namespace")) {
                assertEquals(ns, o.path("metadata").path("namespace").asText());
            }
        }
        assertEquals(Manifests.render(BASE).size() + 1, overlay.size(), "the base's resources plus the namespace");
    }

    // ---- the gateway workload, for the base and the overlay ----

    /** The gateway's workload: the StatefulSet of the cluster layout, or the single pod's Deployment. */
    static ObjectNode gatewayWorkload(List<ObjectNode> r) {
        List<ObjectNode> w = r.stream().filter(o -> o.at("/metadata/name").asText().equals("offload-gateway")
                && Set.of("Deployment", "StatefulSet").contains(o.path("kind").asText())).toList();
        assertEquals(1, w.size(), "one gateway workload: " + w.stream().map(o -> o.path("kind").asText()).toList());
        return w.get(0);
    }

    static ObjectNode gatewayContainer(List<ObjectNode> r) {
        return (ObjectNode) stream(gatewayWorkload(r).at("/spec/template/spec/containers"))
                .filter(c -> c.path("name").asText().equals("gateway")).findFirst().orElseThrow();
    }

    /** Environment of the gateway container: its ConfigMaps (envFrom) and env entries with literal values. */
    static Map<String, String> gatewayEnv(List<ObjectNode> r) {
        Map<String, String> env = new LinkedHashMap<>();
        ObjectNode c = gatewayContainer(r);
        c.path("envFrom").forEach(e -> {
            if (e.has("configMapRef")) {
                get(r, "ConfigMap", e.at("/configMapRef/name").asText()).path("data")
                        .fields().forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText()));
            }
        });
        c.path("env").forEach(e -> env.put(e.path("name").asText(), e.has("value") ? e.get("value").asText() : null));
        return env;
    }

    static void assertConfigKeys(Set<String> envNames, String where) {
        TreeSet<String> keys = ConfigKeys.all();
        Map<String, String> byEnv = new HashMap<>();
        keys.forEach(k -> byEnv.put(ConfigKeys.envName(k), k));
        PENDING_KEYS.keySet().forEach(k -> byEnv.putIfAbsent(ConfigKeys.envName(k), k));
        List<String> unknown = new ArrayList<>();
        for (String name : envNames) {
            if (!byEnv.containsKey(name)) {
                unknown.add(name);
            }
        }
        assertTrue(unknown.isEmpty(), where + ": environment variables that are no config key of the application: " + unknown
                + " (known: " + keys + ")");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void theGatewayContainerServesOnQuarkusHttpPortAndItsProbesUseIt(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode c = gatewayContainer(r);
        JsonNode port = stream(c.path("ports")).filter(p -> p.path("name").asText().equals("http")).findFirst().orElseThrow();
        assertEquals(httpPort(), port.path("containerPort").asInt(), "containerPort = quarkus.http.port");
        JsonNode grpc = stream(c.path("ports")).filter(p -> p.path("name").asText().equals("grpc")).findFirst().orElseThrow();
        assertEquals(grpcPort(), grpc.path("containerPort").asInt(), "containerPort grpc = quarkus.grpc.server.port");
        assertFalse(gatewayEnv(r).containsKey("QUARKUS_GRPC_SERVER_PORT"), "the gRPC port is the application's too");
        assertFalse(gatewayEnv(r).containsKey("QUARKUS_HTTP_PORT"), "the port is the application's, not overridden");
        JsonNode mgmt = stream(c.path("ports")).filter(p -> p.path("name").asText().equals("management")).findFirst().orElseThrow();
        assertEquals(managementPort(), mgmt.path("containerPort").asInt(), "containerPort management = quarkus.management.port");
        assertFalse(gatewayEnv(r).containsKey("QUARKUS_MANAGEMENT_PORT"), "the management port is the application's too");
        Map<String, String> expected = Map.of("startupProbe", "/q/health/started", "readinessProbe", "/q/health/ready",
                "livenessProbe", "/q/health/live");
        expected.forEach((probe, path) -> {
            assertEquals(path, c.at("/" + probe + "/httpGet/path").asText(), probe);
            assertEquals("management", c.at("/" + probe + "/httpGet/port").asText(), probe + " uses the named management port");
        });
        ObjectNode svc = get(r, "Service", "offload-gateway");
        assertEquals(2, svc.at("/spec/ports").size(), "REST and gRPC");
        assertTrue(stream(svc.at("/spec/ports")).noneMatch(p -> p.path("targetPort").asText().equals("management")
                        || p.path("port").asInt() == managementPort()),
                "the device-facing Service does not expose the management interface");
        ObjectNode msvc = get(r, "Service", "offload-gateway-management");
        assertEquals(1, msvc.at("/spec/ports").size());
        assertEquals("management", msvc.at("/spec/ports/0/targetPort").asText());
        assertEquals(managementPort(), msvc.at("/spec/ports/0/port").asInt());
        JsonNode sp = svc.at("/spec/ports/0");
        assertEquals("http", sp.path("targetPort").asText());
        assertEquals(httpPort(), sp.path("port").asInt());
        assertEquals("http", sp.path("appProtocol").asText(), "REST is HTTP/1.1");
        assertEquals("false", ConfigKeys.prodValue("quarkus.http.http2"), "the REST port speaks HTTP/1.1 only");
        JsonNode gp = svc.at("/spec/ports/1");
        assertEquals("grpc", gp.path("targetPort").asText());
        assertEquals(grpcPort(), gp.path("port").asInt());
        assertEquals("kubernetes.io/h2c", gp.path("appProtocol").asText(), "gRPC is HTTP/2 cleartext");
        assertEquals("true", ConfigKeys.prodValue("quarkus.grpc.server.use-separate-server"), "gRPC has its own port");
        ObjectNode np = get(r, "NetworkPolicy", "offload-gateway");
        List<String> allowed = stream(np.at("/spec/ingress/0/ports")).map(p -> p.path("port").asText()).toList();
        assertEquals(List.of("http", "grpc"), allowed, "the network policy lets devices reach both ports");
        assertTrue(np.at("/spec/ingress/0/from").isMissingNode(), "devices come from anywhere");
        assertEquals(2, np.at("/spec/ingress").size(), "devices; Prometheus");
        assertEquals(List.of("management"), stream(np.at("/spec/ingress/1/ports")).map(p -> p.path("port").asText()).toList());
        assertEquals("monitoring", np.at("/spec/ingress/1/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText(),
                "only Prometheus' namespace reaches the management port");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void everyEnvironmentVariableIsARealConfigKey(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        Map<String, String> env = gatewayEnv(r);
        assertTrue(env.size() >= 8, "env: " + env.keySet());
        assertConfigKeys(env.keySet(), dir);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void shutdownDelayAndTimeoutFitTheGracePeriod(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        Map<String, String> env = gatewayEnv(r);
        assertEquals("true", ConfigKeys.prodValue("quarkus.shutdown.delay-enabled"), "build-time switch for the readiness delay");
        Duration delay = duration(env.getOrDefault("QUARKUS_SHUTDOWN_DELAY", ConfigKeys.prodValue("quarkus.shutdown.delay")));
        Duration timeout = duration(env.getOrDefault("QUARKUS_SHUTDOWN_TIMEOUT", ConfigKeys.prodValue("quarkus.shutdown.timeout")));
        assertTrue(delay.toSeconds() > 0, "a readiness delay");
        long grace = gatewayWorkload(r).at("/spec/template/spec/terminationGracePeriodSeconds").asLong();
        assertTrue(grace >= delay.plus(timeout).toSeconds() + 5,
                "terminationGracePeriodSeconds " + grace + " leaves room after delay " + delay + " + timeout " + timeout);
    }

    static Duration duration(String v) {
        assertNotNull(v, "a duration");
        Matcher m = Pattern.compile("(\\d+)(ms|s|m)").matcher(v);
        assertTrue(m.matches(), "duration " + v);
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/overlays/single-pod"})
    void oneWriterOwnsTheDataVolume(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode d = get(r, "Deployment", "offload-gateway");
        assertEquals(1, d.at("/spec/replicas").asInt());
        assertEquals("Recreate", d.at("/spec/strategy/type").asText(), "the old writer stops before the new one starts");
        String dataDir = gatewayEnv(r).get("GATEWAY_DATA_DIR");
        JsonNode mount = stream(gatewayContainer(r).path("volumeMounts"))
                .filter(m -> m.path("mountPath").asText().equals(dataDir)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at GATEWAY_DATA_DIR " + dataDir));
        JsonNode volume = stream(d.at("/spec/template/spec/volumes"))
                .filter(v -> v.path("name").equals(mount.path("name"))).findFirst().orElseThrow();
        ObjectNode pvc = get(r, "PersistentVolumeClaim", volume.at("/persistentVolumeClaim/claimName").asText());
        assertEquals(List.of("ReadWriteOnce"), stream(pvc.at("/spec/accessModes")).map(JsonNode::asText).toList());
        assertTrue(ofKind(r, "HorizontalPodAutoscaler").stream()
                        .noneMatch(h -> h.at("/spec/scaleTargetRef/name").asText().equals("offload-gateway")),
                "nothing scales the single writer out");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void theKeysFileIsTheMountedSecret(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        Path file = Path.of(gatewayEnv(r).get("GATEWAY_AUTH_KEYS_FILE"));
        JsonNode mount = stream(gatewayContainer(r).path("volumeMounts"))
                .filter(m -> m.path("mountPath").asText().equals(file.getParent().toString())).findFirst().orElseThrow();
        assertTrue(mount.path("readOnly").asBoolean());
        JsonNode volume = stream(gatewayWorkload(r).at("/spec/template/spec/volumes"))
                .filter(v -> v.path("name").equals(mount.path("name"))).findFirst().orElseThrow();
        ObjectNode secret = get(r, "Secret", volume.at("/secret/secretName").asText());
        JsonNode keys = secret.at("/stringData/" + file.getFileName());
        assertTrue(keys.isTextual(), "the Secret has the key " + file.getFileName());
        // The gateway's own parser, which skips (and only logs) a line it cannot read: a key with
        // a role it does not know would otherwise deploy and then answer 401.
        List<String> lines = List.of(keys.asText().split("\n"));
        KeyRing ring = KeyRing.parse(lines);
        assertEquals(List.of(), ring.problems(), dir + ": every line of the keys Secret is read");
        assertEquals(lines.stream().filter(l -> !l.isBlank() && !l.strip().startsWith("#")).count(), ring.size(),
                dir + ": one key per line");
        if (!ring.tenants().isEmpty()) {
            // A site that lets devices in also needs an admin: key reload, snapshots, index-wide stats.
            assertTrue(lines.stream().anyMatch(l -> l.strip().endsWith(" admin")), dir + ": an admin key");
        }
    }

    /** Key lines anywhere, also in comments: a line copied from an example must work as it stands. */
    private static final Pattern KEY_LINE = Pattern.compile("^[#\\s]*([0-9a-fA-F]{64}\\s+\\S+\\s+\\S+)\\s*$");

    @Test
    void everyKeyLineInTheManifestsAndComposeParsesWithTheGatewaysParser() throws IOException {
        List<Path> files = new ArrayList<>(List.of(Path.of("docker-compose.yml")));
        try (Stream<Path> k8s = Files.walk(Path.of("k8s"))) {
            k8s.filter(Files::isRegularFile).forEach(files::add);
        }
        int found = 0;
        for (Path f : files) {
            List<String> text = Files.readAllLines(f);
            for (int i = 0; i < text.size(); i++) {
                Matcher m = KEY_LINE.matcher(text.get(i));
                if (m.matches()) {
                    found++;
                    KeyRing ring = KeyRing.parse(List.of(m.group(1)));
                    assertEquals(List.of(), ring.problems(), f + ":" + (i + 1) + ": " + m.group(1));
                    assertEquals(1, ring.size(), f + ":" + (i + 1));
                }
            }
        }
        assertTrue(found >= 3, "the overlay's two keys and compose's example line were seen: " + found);
    }

    // ---- the edge pool and its autoscaler ----

    static List<String> vllmArgs(List<ObjectNode> r) {
        JsonNode c = get(r, "StatefulSet", "vllm").at("/spec/template/spec/containers/0");
        return stream(c.path("args")).map(JsonNode::asText).toList();
    }

    static String argAfter(List<String> args, String flag) {
        int i = args.indexOf(flag);
        assertTrue(i >= 0 && i + 1 < args.size(), "no " + flag + " in " + args);
        return args.get(i + 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void theGatewayAddressesEveryVllmReplicaTheAutoscalerMayStart(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        Map<String, String> env = gatewayEnv(r);
        List<String> args = vllmArgs(r);
        assertEquals(env.get("GATEWAY_TIERS_EDGE_MODEL"), argAfter(args, "--served-model-name"));
        int batch = Integer.parseInt(argAfter(args, "--max-num-seqs"));
        assertEquals(batch, Integer.parseInt(env.get("GATEWAY_TIERS_EDGE_MAX_CONCURRENCY")),
                "the gateway's max-concurrency is vLLM's batch size");
        ObjectNode sts = get(r, "StatefulSet", "vllm");
        ObjectNode headless = get(r, "Service", sts.at("/spec/serviceName").asText());
        assertEquals("None", headless.at("/spec/clusterIP").asText(), "per-replica DNS names need a headless Service");
        int port = sts.at("/spec/template/spec/containers/0/ports/0/containerPort").asInt();
        assertEquals(String.valueOf(port), argAfter(args, "--port"));

        ObjectNode hpa = get(r, "HorizontalPodAutoscaler", "vllm");
        assertEquals("StatefulSet", hpa.at("/spec/scaleTargetRef/kind").asText());
        assertEquals(sts.at("/metadata/name").asText(), hpa.at("/spec/scaleTargetRef/name").asText());
        int max = hpa.at("/spec/maxReplicas").asInt();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < max; i++) {
            expected.add("http://" + sts.at("/metadata/name").asText() + "-" + i + "." + headless.at("/metadata/name").asText()
                    + ":" + port + "/v1");
        }
        assertEquals(expected, List.of(env.get("GATEWAY_TIERS_EDGE_BASE_URLS").split(",")),
                "one base URL per StatefulSet ordinal up to maxReplicas");

        JsonNode metric = hpa.at("/spec/metrics/0/object");
        ObjectNode described = get(r, metric.at("/describedObject/kind").asText(), metric.at("/describedObject/name").asText());
        assertEquals("offload-gateway-management", described.at("/metadata/name").asText(),
                "the demand is the gateway's, on the Service Prometheus scrapes");
        assertEquals(adapterMetricName(), metric.at("/metric/name").asText(), "the metric prometheus-adapter exposes");
        double target = Double.parseDouble(metric.at("/target/averageValue").asText());
        assertTrue(target > 0 && target < batch, "target demanded slots per replica " + target + " below the batch size " + batch);
    }

    static String adapterMetricName() {
        JsonNode rules = Manifests.readOne(ADAPTER).at("/rules/custom");
        assertEquals(1, rules.size());
        return rules.at("/0/name/as").asText();
    }

    /** The PromQL of the adapter rule: what the gateway must export for the autoscaler to work. */
    static Set<String> adapterSeries() {
        JsonNode rule = Manifests.readOne(ADAPTER).at("/rules/custom/0");
        Set<String> names = new java.util.LinkedHashSet<>(PromQl.metricNames(rule.path("seriesQuery").asText()));
        names.addAll(PromQl.metricNames(rule.path("metricsQuery").asText()));
        return names;
    }

    @Test
    void theAdapterRuleAttachesTheDemandToTheGatewayService() {
        JsonNode rule = Manifests.readOne(ADAPTER).at("/rules/custom/0");
        assertEquals("service", rule.at("/resources/overrides/service/resource").asText());
        assertEquals("namespace", rule.at("/resources/overrides/namespace/resource").asText());
        assertEquals(Set.of("gateway_backend_queue_length", "gateway_backend_inflight"), adapterSeries());
        assertTrue(rule.path("name").path("matches").asText().contains("gateway_backend_queue_length"));
    }

    // ---- selectors, monitoring, network ----

    static Map<String, String> labels(JsonNode n) {
        Map<String, String> m = new HashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }

    /** Workloads whose pods a selector selects. */
    static List<String> selected(List<ObjectNode> r, JsonNode matchLabels) {
        Map<String, String> sel = labels(matchLabels);
        List<String> out = new ArrayList<>();
        for (ObjectNode w : r) {
            if (Set.of("Deployment", "StatefulSet").contains(w.path("kind").asText())
                    && labels(w.at("/spec/template/metadata/labels")).entrySet().containsAll(sel.entrySet())) {
                out.add(w.at("/metadata/name").asText());
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void everySelectorSelectsExactlyTheWorkloadItIsNamedFor(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        for (ObjectNode s : ofKind(r, "Service")) {
            // A workload's Services are named for it: <workload> and <workload>-management.
            String workload = s.at("/metadata/name").asText().replaceAll("-(management|headless)$", "");
            assertEquals(List.of(workload), selected(r, s.at("/spec/selector")), "Service " + s.at("/metadata/name"));
        }
        for (ObjectNode p : ofKind(r, "PodDisruptionBudget")) {
            assertEquals(List.of(p.at("/metadata/name").asText()), selected(r, p.at("/spec/selector/matchLabels")), "PDB " + p.at("/metadata/name"));
        }
        for (ObjectNode n : ofKind(r, "NetworkPolicy")) {
            assertEquals(List.of(n.at("/metadata/name").asText()), selected(r, n.at("/spec/podSelector/matchLabels")), "NetworkPolicy " + n.at("/metadata/name"));
        }
        for (String w : List.of("offload-gateway", "vllm")) {
            ObjectNode workload = w.equals("offload-gateway") ? gatewayWorkload(r) : get(r, "StatefulSet", w);
            assertTrue(labels(workload.at("/spec/template/metadata/labels")).entrySet()
                    .containsAll(labels(workload.at("/spec/selector/matchLabels")).entrySet()), w + " selects its own pods");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void prometheusScrapesTheMetricsPathOnTheServicePort(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode sm = get(r, "ServiceMonitor", "offload-gateway");
        Map<String, String> sel = labels(sm.at("/spec/selector/matchLabels"));
        List<ObjectNode> services = ofKind(r, "Service").stream()
                .filter(s -> labels(s.at("/metadata/labels")).entrySet().containsAll(sel.entrySet())).toList();
        assertEquals(1, services.size(), "the ServiceMonitor selects one Service");
        assertEquals("offload-gateway-management", services.get(0).at("/metadata/name").asText(),
                "Prometheus scrapes the management interface, not the device-facing Service");
        JsonNode endpoint = sm.at("/spec/endpoints/0");
        assertEquals(metricsPath(), endpoint.path("path").asText(), "quarkus.micrometer.export.prometheus.path");
        JsonNode port = stream(services.get(0).at("/spec/ports")).filter(p -> p.path("name").equals(endpoint.path("port")))
                .findFirst().orElseThrow();
        assertEquals("management", port.path("targetPort").asText());
        assertEquals(managementPort(), port.path("port").asInt());
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/cell-site-example", "k8s/overlays/single-pod"})
    void networkPoliciesOpenExactlyThePortsInUse(String dir) {
        List<ObjectNode> r = Manifests.render(Path.of(dir));
        ObjectNode gw = get(r, "NetworkPolicy", "offload-gateway");
        assertEquals("http", gw.at("/spec/ingress/0/ports/0/port").asText(), "devices reach the gateway's named port");
        int vllmPort = get(r, "StatefulSet", "vllm").at("/spec/template/spec/containers/0/ports/0/containerPort").asInt();
        JsonNode toVllm = stream(gw.at("/spec/egress")).filter(e -> e.at("/to/0/podSelector/matchLabels/app.kubernetes.io~1name")
                .asText().equals("vllm")).findFirst().orElseThrow();
        assertEquals(vllmPort, toVllm.at("/ports/0/port").asInt());
        ObjectNode v = get(r, "NetworkPolicy", "vllm");
        assertEquals(vllmPort, v.at("/spec/ingress/0/ports/0/port").asInt());
        assertEquals("offload-gateway", v.at("/spec/ingress/0/from/0/podSelector/matchLabels/app.kubernetes.io~1name").asText());
    }

    // ---- docker-compose.yml ----

    static JsonNode compose() {
        return Manifests.readOne(Manifests.COMPOSE);
    }

    static Map<String, String> composeEnv(String service) {
        Map<String, String> env = new LinkedHashMap<>();
        compose().at("/services/" + service + "/environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        return env;
    }

    static List<String> list(JsonNode n) {
        return stream(n).map(JsonNode::asText).toList();
    }

    @Test
    void composeRunsTheGatewayWithItsRealPortKeysAndDataDir() {
        JsonNode gw = compose().at("/services/gateway");
        assertEquals(List.of(httpPort() + ":" + httpPort(), grpcPort() + ":" + grpcPort(), "127.0.0.1:9091:" + managementPort()),
                list(gw.path("ports")), "the management interface on the host's loopback only");
        Map<String, String> env = composeEnv("gateway");
        assertConfigKeys(env.keySet(), "docker-compose.yml gateway");
        assertTrue(list(gw.path("volumes")).stream().anyMatch(v -> v.endsWith(":" + env.get("GATEWAY_DATA_DIR"))),
                "a volume at GATEWAY_DATA_DIR");
        String check = String.join(" ", list(gw.at("/healthcheck/test")));
        assertTrue(check.contains("http://localhost:" + managementPort() + "/q/health/ready"), check);
        Duration stop = duration(gw.path("stop_grace_period").asText());
        assertTrue(stop.compareTo(duration(env.get("QUARKUS_SHUTDOWN_DELAY")).plus(duration(env.get("QUARKUS_SHUTDOWN_TIMEOUT")))) > 0,
                "stop_grace_period covers the shutdown delay and timeout");
        assertEquals("src/main/docker/Dockerfile.jvm", gw.at("/build/dockerfile").asText());
        assertTrue(Files.exists(Path.of(gw.at("/build/dockerfile").asText())));
    }

    @Test
    void composeModelServersAnswerAsTheGatewaysEdgeTierWithTheSameBatchSize() {
        Map<String, String> env = composeEnv("gateway");
        String batch = env.get("GATEWAY_TIERS_EDGE_MAX_CONCURRENCY");
        assertTrue(batch.startsWith("${"), "one variable sets the batch size everywhere: " + batch);
        java.net.URI edge = java.net.URI.create(env.get("GATEWAY_TIERS_EDGE_BASE_URLS"));
        JsonNode vllm = compose().at("/services/vllm");
        JsonNode llama = compose().at("/services/llamacpp");
        assertEquals(List.of("gpu"), list(vllm.path("profiles")));
        assertEquals(List.of("cpu"), list(llama.path("profiles")));
        assertEquals("nvidia", vllm.at("/deploy/resources/reservations/devices/0/driver").asText());
        assertTrue(list(vllm.at("/deploy/resources/reservations/devices/0/capabilities")).contains("gpu"));
        assertTrue(vllm.path("image").asText().startsWith("vllm/vllm-openai:"));
        assertTrue(llama.path("image").asText().startsWith("ghcr.io/ggml-org/llama.cpp:server"));
        List<String> vArgs = list(vllm.path("command"));
        List<String> lArgs = list(llama.path("command"));
        for (JsonNode s : List.of(vllm, llama)) {
            assertTrue(list(s.at("/networks/default/aliases")).contains(edge.getHost()), "answers as " + edge.getHost());
        }
        assertEquals(String.valueOf(edge.getPort()), argAfter(vArgs, "--port"));
        assertEquals(String.valueOf(edge.getPort()), argAfter(lArgs, "--port"));
        assertEquals(env.get("GATEWAY_TIERS_EDGE_MODEL"), argAfter(vArgs, "--served-model-name"));
        assertEquals(env.get("GATEWAY_TIERS_EDGE_MODEL"), argAfter(lArgs, "--alias"));
        assertEquals(batch, argAfter(vArgs, "--max-num-seqs"));
        assertEquals(batch, argAfter(lArgs, "--parallel"));
        assertTrue(argAfter(lArgs, "-m").startsWith("/models/"));
        assertTrue(list(llama.path("volumes")).stream().anyMatch(v -> v.contains(":/models")), "the user's model folder is mounted");
    }

    @Test
    void composeWiresPrometheusAndGrafanaToFilesThatExist() {
        JsonNode services = compose().path("services");
        for (String s : List.of("gateway", "vllm", "llamacpp", "prometheus", "grafana")) {
            assertTrue(services.path(s).has("healthcheck"), s + " has a healthcheck");
        }
        Map<String, String> mounts = new HashMap<>();
        services.fields().forEachRemaining(s -> list(s.getValue().path("volumes")).forEach(v -> {
            if (v.startsWith("./")) {
                String[] p = v.split(":");
                assertTrue(Files.exists(Path.of(p[0])), s.getKey() + " mounts " + p[0] + ", which does not exist");
                mounts.put(p[1], p[0]);
            }
        }));
        String configFile = list(services.at("/prometheus/command")).stream().filter(a -> a.startsWith("--config.file="))
                .findFirst().orElseThrow().substring("--config.file=".length());
        JsonNode prom = Manifests.readOne(Path.of(mounts.get(configFile)));
        JsonNode job = prom.at("/scrape_configs/0");
        assertEquals(metricsPath(), job.path("metrics_path").asText());
        assertEquals(List.of("gateway:" + managementPort()), list(job.at("/static_configs/0/targets")));
        JsonNode clusterJob = prom.at("/scrape_configs/1");
        assertEquals(metricsPath(), clusterJob.path("metrics_path").asText());
        assertEquals(List.of("gateway-2:" + managementPort(), "gateway-3:" + managementPort()),
                list(clusterJob.at("/static_configs/0/targets")), "the cluster profile's replicas");

        JsonNode ds = Manifests.readOne(Path.of(mounts.get("/etc/grafana/provisioning")).resolve("datasources/prometheus.yaml"));
        String promPort = list(services.at("/prometheus/ports")).get(0).split(":")[1];
        assertEquals("http://prometheus:" + promPort, ds.at("/datasources/0/url").asText());
        JsonNode provider = Manifests.readOne(Path.of(mounts.get("/etc/grafana/provisioning")).resolve("dashboards/offload-gateway.yaml"));
        String dashboardsIn = provider.at("/providers/0/options/path").asText();
        assertEquals(DASHBOARD.getParent().toString(), Path.of(mounts.get(dashboardsIn)).normalize().toString(),
                "Grafana loads the dashboard from where compose mounts it");
    }

    // ---- the image ----

    @Test
    void theImageRunsWithTheTestsJvmFlagsAndTheManifestsDataDir() throws IOException {
        String dockerfile = Files.readString(Path.of("src/main/docker/Dockerfile.jvm"));
        Matcher opts = Pattern.compile("JAVA_OPTS_APPEND=\"([^\"]*)\"").matcher(dockerfile);
        assertTrue(opts.find());
        Matcher flags = Pattern.compile("<jvm.vector.flags>([^<]*)</jvm.vector.flags>").matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(flags.find());
        for (String flag : flags.group(1).split("\\s+(?=--)")) {
            assertTrue(opts.group(1).contains(flag.strip()), "the image's JVM lacks " + flag + " that the tests run with");
        }
        // The image's HotSpot flags (transparent huge pages) are what the README's run command and
        // the benchmarks' gateway use too, so measured figures are the shipped configuration's.
        String readme = Files.readString(Path.of("README.md"));
        String launcher = Files.readString(Path.of("src/test/java/dev/offload/gateway/bench/GatewayLauncher.java"));
        Matcher xx = Pattern.compile("-XX:\\S+").matcher(opts.group(1));
        while (xx.find()) {
            assertTrue(readme.contains("java --add-modules jdk.incubator.vector " + xx.group() + " -jar"),
                    "the README's run command lacks " + xx.group());
            assertTrue(launcher.contains("\"" + xx.group() + "\""), "the benchmarks' gateway lacks " + xx.group());
        }
        Matcher expose = Pattern.compile("(?m)^EXPOSE (\\d+) (\\d+) (\\d+)$").matcher(dockerfile);
        assertTrue(expose.find(), "EXPOSE <http> <grpc> <management>");
        assertEquals(httpPort(), Integer.parseInt(expose.group(1)));
        assertEquals(grpcPort(), Integer.parseInt(expose.group(2)));
        assertEquals(managementPort(), Integer.parseInt(expose.group(3)));
        Matcher dataDir = Pattern.compile("(?m)^ENV GATEWAY_DATA_DIR=(\\S+)").matcher(dockerfile);
        assertTrue(dataDir.find());
        assertTrue(dockerfile.contains("VOLUME " + dataDir.group(1)));
        assertEquals(dataDir.group(1), gatewayEnv(Manifests.render(BASE)).get("GATEWAY_DATA_DIR"));
        assertEquals(dataDir.group(1), composeEnv("gateway").get("GATEWAY_DATA_DIR"));
        assertConfigKeys(Set.of("GATEWAY_DATA_DIR"), "Dockerfile.jvm");
    }

    // ---- the dashboard, structurally (the live test checks its metric names) ----

    static List<String> dashboardExpressions() {
        List<String> exprs = new ArrayList<>();
        collectExprs(Manifests.readOne(DASHBOARD).path("panels"), exprs);
        return exprs;
    }

    private static void collectExprs(JsonNode panels, List<String> out) {
        for (JsonNode p : panels) {
            p.path("targets").forEach(t -> out.add(t.path("expr").asText()));
            collectExprs(p.path("panels"), out);
        }
    }

    @Test
    void theDashboardQueriesTheGatewayThroughItsDatasourceVariable() {
        JsonNode d = Manifests.readOne(DASHBOARD);
        assertFalse(d.path("uid").asText().isEmpty());
        assertTrue(stream(d.at("/templating/list")).anyMatch(v -> v.path("type").asText().equals("datasource")
                && v.path("name").asText().equals("datasource")));
        List<String> exprs = dashboardExpressions();
        assertTrue(exprs.size() >= 15, exprs.size() + " queries");
        for (JsonNode p : d.path("panels")) {
            if (!p.path("type").asText().equals("row")) {
                assertEquals("${datasource}", p.at("/datasource/uid").asText(), p.path("title").asText());
            }
        }
        for (String e : exprs) {
            Set<String> names = PromQl.metricNames(e);
            assertFalse(names.isEmpty(), "a query that reads no metric: " + e);
            for (String n : names) {
                assertTrue(n.startsWith("gateway_") || n.startsWith("http_server_"), "not a gateway metric: " + n + " in " + e);
            }
        }
    }

    @Test
    void promQlNamesAreFoundAndFunctionsAreNot() {
        assertEquals(Set.of("gateway_generation_ttft_seconds_bucket"), PromQl.metricNames(
                "histogram_quantile(0.95, sum by (le, tier) (rate(gateway_generation_ttft_seconds_bucket{tier=\"edge\"}[5m])))"));
        assertEquals(Set.of("a_total", "b"), PromQl.metricNames("sum(a_total{x=\"y{z}\"}) by (<<.GroupBy>>) + on(pod) 2 * b offset 5m"));
    }

    @Test
    void configKeysComeFromTheMappingsAndTheirEnvironmentNamesFollowSmallRye() {
        TreeSet<String> keys = ConfigKeys.fromMappings();
        assertTrue(keys.containsAll(Set.of("gateway.data-dir", "gateway.tiers.edge.base-urls", "gateway.tiers.cloud.api-key",
                "gateway.generation.max-tokens-cap", "gateway.index.rerank-k", "gateway.capacity.sample-interval")), keys.toString());
        assertFalse(keys.contains("gateway.tiers.edge"), "groups are not keys");
        for (String k : keys) {
            // SmallRye's own conversion, the one EnvConfigSource applies.
            assertEquals(StringUtil.replaceNonAlphanumericByUnderscores(k).toUpperCase(java.util.Locale.ROOT), ConfigKeys.envName(k));
        }
    }
}
