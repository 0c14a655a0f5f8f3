package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.api.SimulatedBackendsResource;
import dev.offload.gateway.retrieval.SharedIndex;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CI-sized run of the fleet driver against the gateway of this test (simulated edge and cloud
 * backends): it must produce well-formed output. Timings are not asserted.
 */
@QuarkusTest
@QuarkusTestResource(value = SimulatedBackendsResource.class, restrictToAnnotatedClass = true)
class FleetDriverSmokeTest {
    private static final Set<String> ROUTES = Set.of("local", "edge", "cloud", "cache", "extractive", "cut-off");
    private static final Set<String> VERDICTS = Set.of("correct", "wrong", "extractive", "cut-off", "unlabelled");
    private static final List<String> LABELS = List.of("| follow hints |", "| always offload |", "| never offload |",
            "| quality router only |", "| oracle |");

    @Inject
    SharedIndex index;
    @ConfigProperty(name = "quarkus.http.test-port")
    int port;
    @ConfigProperty(name = "quarkus.grpc.server.test-port")
    int grpcPort;

    private Map<String, String> args(Path out, String transport, String policies) {
        Map<String, String> a = new HashMap<>();
        a.put("url", "http://localhost:" + port);
        a.put("grpc-port", Integer.toString(grpcPort));
        a.put("api-key", dev.offload.gateway.security.TestKeys.DEFAULT_DEVICE);
        a.put("transport", transport);
        a.put("policies", policies);
        a.put("devices", "30");
        a.put("rate", "6");
        a.put("timeline", "wifi:2,lte:1:2,offline:1");
        a.put("bursts", "");
        a.put("output-tokens", "8,16,12");
        a.put("local-tps", "400");
        a.put("local-prefill-tps", "4000");
        a.put("drain-s", "8");
        a.put("warmup-queries", "2");
        a.put("metrics-interval-s", "0.5");
        a.put("bucket-s", "1");
        a.put("paraphrases", "none");
        a.put("out", out.toString());
        return a;
    }

    @Test
    void everyPolicyOverSseWritesFourAxesCsvPlotsAndSummary(@TempDir Path out) throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        Path summary = FleetDriver.run(args(out, "sse", "hints,offload,local,quality,oracle"), "smoke");

        List<List<String>> rows = csv(out.resolve("requests.csv"));
        List<String> header = rows.get(0);
        assertEquals(List.of(RequestRecord.CSV_HEADER.split(",")), header);
        assertTrue(rows.size() > 1, "no request rows");
        int route = header.indexOf("route");
        int policy = header.indexOf("policy");
        int e2e = header.indexOf("e2e_ms");
        int verdict = header.indexOf("verdict");
        int cacheOrigin = header.indexOf("cache_origin");
        int localS = header.indexOf("local_s");
        int localJ = header.indexOf("local_j");
        int radioJ = header.indexOf("radio_j");
        int network = header.indexOf("network");
        int decides = header.indexOf("decide_calls");
        int probes = header.indexOf("cache_probes");
        int deviceClass = header.indexOf("device_class");
        for (List<String> r : rows.subList(1, rows.size())) {
            assertEquals(header.size(), r.size(), "fields in row " + r);
            assertTrue(ROUTES.contains(r.get(route)), "route " + r.get(route));
            assertTrue(Double.parseDouble(r.get(e2e)) >= 0);
            assertTrue(VERDICTS.contains(r.get(verdict)), "verdict " + r.get(verdict));
            if (r.get(route).equals("extractive") || r.get(route).equals("cut-off")) {
                assertEquals(r.get(route), r.get(verdict), "extractive answers and cut-offs are counted apart");
            }
            assertEquals(r.get(route).equals("cache"), !r.get(cacheOrigin).isEmpty(), "cache_origin only for cached answers");
            if (!r.get(cacheOrigin).isEmpty()) {
                assertTrue(Set.of("same", "other", "unknown").contains(r.get(cacheOrigin)), r.get(cacheOrigin));
                if (!r.get(cacheOrigin).equals("same")) {
                    assertEquals("wrong", r.get(verdict), "another question's cached answer is never correct");
                }
            }
            double ls = Double.parseDouble(r.get(localS));
            double lj = Double.parseDouble(r.get(localJ));
            double rj = Double.parseDouble(r.get(radioJ));
            assertTrue(ls >= 0 && lj >= 0 && rj >= 0, "energy is never negative: " + r);
            assertEquals(ls > 0, lj > 0, "local joules iff the local model ran");
            if (r.get(route).equals("edge")) {
                assertTrue(rj > 0, "an answer from the edge came over the radio");
            }
            if (r.get(network).equals("offline") || r.get(policy).equals("local")) {
                assertEquals(0, rj, 1e-12, "no radio without an exchange");
            }
            assertTrue(Set.of("0", "1").contains(r.get(decides)));
            assertEquals("0", r.get(probes), "only watching devices probe the cache");
            assertEquals(400, Double.parseDouble(r.get(deviceClass)), 1e-9, "--local-tps sets a one-class mix");
        }
        assertTrue(rows.stream().skip(1).anyMatch(r -> r.get(policy).equals("offload") && r.get(route).equals("edge")),
                "always-offload devices online on wifi must get answers from the edge");
        assertTrue(rows.stream().skip(1).filter(r -> r.get(policy).equals("local"))
                .allMatch(r -> r.get(route).equals("local") || r.get(route).equals("cut-off")));
        long perPolicy = rows.stream().skip(1).filter(r -> r.get(policy).equals("hints")).count();
        for (String p : List.of("offload", "local", "quality", "oracle")) {
            assertEquals(perPolicy, rows.stream().skip(1).filter(r -> r.get(policy).equals(p)).count(),
                    "every policy replays the same workload: " + p);
        }

        List<List<String>> occupancy = csv(out.resolve("occupancy.csv"));
        assertEquals(List.of("policy", "repeat", "t_s", "edge_occupancy", "edge_queue"), occupancy.get(0));
        assertTrue(occupancy.size() > 1, "the gateway's /q/metrics was never scraped");

        for (String png : List.of("latency-cdf.png", "routes-hints.png", "routes-offload.png", "routes-local.png",
                "routes-quality.png", "routes-oracle.png", "gpu-occupancy.png", "four-axes.png")) {
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(img, png + " does not decode");
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100, png);
        }

        String md = Files.readString(summary);
        for (String section : List.of("# Fleet replay", "## Setup", "## Four axes", "### Budgets met per phase (median over"
                + " repetitions)", "### By device class (pooled over repetitions)",
                "## Results", "## Per phase", "## Per repetition", "## Plots", "## Files")) {
            assertTrue(md.contains("\n" + section + "\n") || md.startsWith(section + "\n"), "summary lacks " + section);
        }
        String axes = md.substring(md.indexOf("## Four axes"), md.indexOf("### Budgets met per phase"));
        for (String label : LABELS) {
            assertTrue(md.contains(label), "summary lacks the row " + label);
            String row = axes.lines().filter(l -> l.startsWith(label)).findFirst().orElseThrow();
            assertEquals(17, row.split("\\|", -1).length, "four-axis row " + row);
        }
        String never = axes.lines().filter(l -> l.startsWith("| never offload |")).findFirst().orElseThrow();
        assertTrue(never.contains("| 0.0000 | 0.0000 |"), "never offload uses no GPU and costs nothing: " + never);
        assertTrue(md.contains("\n### Targets (following hints: follow hints)\n"), "without watch the targets judge hints");
        String targets = md.substring(md.indexOf("### Targets (following hints"), md.indexOf("## Results"));
        assertEquals(7, targets.lines().filter(l -> l.startsWith("- **met**") || l.startsWith("- **not met**")).count(),
                targets);
        assertTrue(md.contains("![latency-cdf](latency-cdf.png)"));
        assertTrue(md.contains("![four-axes](four-axes.png)"));
    }

    @Test
    void grpcWithAnApiKeyFollowsHints(@TempDir Path out) throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        Map<String, String> a = args(out, "grpc", "hints");
        a.put("api-key", dev.offload.gateway.security.TestKeys.DEFAULT_DEVICE);
        FleetDriver.run(a, "smoke grpc");
        List<List<String>> rows = csv(out.resolve("requests.csv"));
        int source = rows.get(0).indexOf("hint_source");
        int route = rows.get(0).indexOf("route");
        assertTrue(rows.size() > 1);
        assertTrue(rows.stream().skip(1).anyMatch(r -> r.get(source).equals("decided")),
                "a device without a hint calls Decide first");
        assertFalse(rows.stream().skip(1).allMatch(r -> r.get(route).equals("cut-off")), "nothing was answered");
    }

    @Test
    void watchingDevicesDecideWithThePolicyPackageInsteadOfCallingDecide(@TempDir Path out) throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        Map<String, String> a = args(out, "sse", "watch,watch-noprobe");
        // Local answers of about a second, so that a Wi-Fi round trip is worth a cache probe.
        a.put("local-tps", "20");
        a.put("local-prefill-tps", "2000");
        FleetDriver.run(a, "smoke watch");
        List<List<String>> rows = csv(out.resolve("requests.csv"));
        int source = rows.get(0).indexOf("hint_source");
        int decides = rows.get(0).indexOf("decide_calls");
        int probes = rows.get(0).indexOf("cache_probes");
        int route = rows.get(0).indexOf("route");
        int why = rows.get(0).indexOf("why");
        int network = rows.get(0).indexOf("network");
        int policy = rows.get(0).indexOf("policy");
        List<List<String>> probed = rows.stream().skip(1).filter(r -> r.get(probes).equals("1")).toList();
        assertFalse(probed.isEmpty(), "a question kept local on Wi-Fi asks the cache first");
        for (List<String> r : probed) {
            assertEquals("watch", r.get(policy), "the ablation never probes: " + r);
            assertEquals("wifi", r.get(network), "probes only on Wi-Fi: " + r);
            assertTrue(r.get(route).equals("cache") || r.get(route).equals("cut-off")
                    || r.get(route).equals("local") && r.get(why).equals("cache-miss"), "a probe ends cached or local: " + r);
        }
        assertTrue(rows.size() > 1);
        assertTrue(rows.stream().skip(1).anyMatch(r -> r.get(source).equals("watched")),
                "with a pushed snapshot a device decides locally");
        assertTrue(rows.stream().skip(1).filter(r -> r.get(source).equals("watched"))
                .allMatch(r -> r.get(decides).equals("0")), "a local decision makes no decide call");
        assertFalse(rows.stream().skip(1).allMatch(r -> r.get(route).equals("cut-off")), "nothing was answered");
    }

    /** RFC 4180 reader: quoted fields may hold commas and doubled quotes. */
    private static List<List<String>> csv(Path file) throws Exception {
        List<List<String>> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            List<String> fields = new ArrayList<>();
            StringBuilder f = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        f.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        f.append(c);
                    }
                } else if (c == '"') {
                    quoted = true;
                } else if (c == ',') {
                    fields.add(f.toString());
                    f.setLength(0);
                } else {
                    f.append(c);
                }
            }
            assertFalse(quoted, "unterminated quote in " + line);
            fields.add(f.toString());
            out.add(fields);
        }
        return out;
    }
}
