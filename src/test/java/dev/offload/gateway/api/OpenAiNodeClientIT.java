package dev.offload.gateway.api;

import dev.offload.gateway.security.TestKeys;
import dev.offload.gateway.sim.SimulatedBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official {@code openai} npm client (v4, pinned by {@code src/test/js/package-lock.json})
 * against this gateway, whose edge tier is a simulated vLLM server that makes tool calls:
 * {@code src/test/js/roundtrip.mjs} runs chat whole and streamed, a tool-call round trip whole
 * and streamed (the SDK's own stream helper assembles the deltas) and {@code embeddings.create}.
 *
 * <p>Run by Failsafe in the integration-test phase ({@code ./mvnw verify -Pall-tests}). The
 * script's dependencies come from {@code npm ci --prefer-offline} (the lockfile, the local npm
 * cache first) when {@code node_modules} is missing. Skipped, saying so, only when {@code node}
 * is not on the PATH.
 */
@QuarkusTest
@QuarkusTestResource(value = OpenAiNodeClientIT.Backend.class, restrictToAnnotatedClass = true)
class OpenAiNodeClientIT {
    private static final Path SCRIPTS = Path.of("src", "test", "js");

    @TestHTTPResource("/")
    URL gateway;

    /** One simulated edge replica; its answers are deterministic, so the script can check them. */
    public static class Backend implements QuarkusTestResourceLifecycleManager {
        static SimulatedBackend edge;

        @Override
        public Map<String, String> start() {
            edge = SimulatedBackend.builder().outputTokens(16).stepBase(Duration.ofMillis(1)).start();
            return Map.of("gateway.tiers.edge.base-urls", edge.baseUrl() + "/v1");
        }

        @Override
        public void stop() {
            edge.close();
        }
    }

    private static boolean onPath(String command) {
        try {
            Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code command} in the scripts' directory; its output goes to the test log and is returned. */
    private static String run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).directory(SCRIPTS.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " did not end");
        System.out.println(out);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    @Test
    void theOfficialNodeClientRoundTripsChatToolCallsAndEmbeddings() throws Exception {
        assumeTrue(onPath("node"), "node is not on the PATH: the openai npm client round trip is skipped");
        if (!Files.isDirectory(SCRIPTS.resolve("node_modules").resolve("openai"))) {
            assumeTrue(onPath("npm"), "npm is not on the PATH: the openai npm client round trip is skipped");
            run(Map.of(), "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund");
        }
        String base = gateway.toString().replaceAll("/$", "");
        String out = run(Map.of("GATEWAY_URL", base, "GATEWAY_KEY", TestKeys.DEFAULT_DEVICE), "node", "roundtrip.mjs");
        assertTrue(out.contains("all ok"), out);
        for (String check : List.of("ok chat", "ok chat stream", "ok tool call round trip", "ok tool call round trip, streamed",
                "ok embeddings", "ok errors")) {
            assertTrue(out.contains(check + "\n"), check + " missing:\n" + out);
        }
        assertTrue(new File(SCRIPTS.toFile(), "package-lock.json").isFile(), "the lockfile pins the client");
    }
}
