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
    void threePoliciesOverSseWriteCsvPlotsAndSummary(@TempDir Path out) throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        Path summary = FleetDriver.run(args(out, "sse", "hints,offload,local"), "smoke");

        List<List<String>> rows = csv(out.resolve("requests.csv"));
        List<String> header = rows.get(0);
        assertEquals(List.of(RequestRecord.CSV_HEADER.split(",")), header);
        assertTrue(rows.size() > 1, "no request rows");
        int route = header.indexOf("route");
        int policy = header.indexOf("policy");
        int e2e = header.indexOf("e2e_ms");
        for (List<String> r : rows.subList(1, rows.size())) {
            assertEquals(header.size(), r.size(), "fields in row " + r);
            assertTrue(ROUTES.contains(r.get(route)), "route " + r.get(route));
            assertTrue(Double.parseDouble(r.get(e2e)) >= 0);
        }
        assertTrue(rows.stream().skip(1).anyMatch(r -> r.get(policy).equals("offload") && r.get(route).equals("edge")),
                "always-offload devices online on wifi must get answers from the edge");
        assertTrue(rows.stream().skip(1).filter(r -> r.get(policy).equals("local"))
                .allMatch(r -> r.get(route).equals("local") || r.get(route).equals("cut-off")));
        long perPolicy = rows.stream().skip(1).filter(r -> r.get(policy).equals("hints")).count();
        assertEquals(perPolicy, rows.stream().skip(1).filter(r -> r.get(policy).equals("local")).count(),
                "every policy replays the same workload");

        List<List<String>> occupancy = csv(out.resolve("occupancy.csv"));
        assertEquals(List.of("policy", "repeat", "t_s", "edge_occupancy", "edge_queue"), occupancy.get(0));
        assertTrue(occupancy.size() > 1, "the gateway's /q/metrics was never scraped");

        for (String png : List.of("latency-cdf.png", "routes-hints.png", "routes-offload.png", "routes-local.png",
                "gpu-occupancy.png")) {
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(img, png + " does not decode");
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100, png);
        }

        String md = Files.readString(summary);
        for (String section : List.of("# Fleet replay", "## Setup", "## Results", "## Per phase", "## Per repetition",
                "## Plots", "## Files")) {
            assertTrue(md.contains("\n" + section + "\n") || md.startsWith(section + "\n"), "summary lacks " + section);
        }
        for (String label : List.of("| follow hints |", "| always offload |", "| never offload |")) {
            assertTrue(md.contains(label), "summary lacks the row " + label);
        }
        assertTrue(md.contains("![latency-cdf](latency-cdf.png)"));
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
