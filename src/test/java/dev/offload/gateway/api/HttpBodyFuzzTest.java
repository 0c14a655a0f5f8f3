package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Mutated JSON bodies through the real HTTP stack, every JSON endpoint: whatever a client sends,
 * the answer is never a 5xx, and a refusal always has a body in the endpoint's error shape
 * (problem+json; OpenAI's error object on chat completions). Seeded: a failure
 * prints the seed's body and replays.
 */
@QuarkusTest
class HttpBodyFuzzTest {
    private static final long SEED = 20261202L;
    private static final int PER_ENDPOINT = 220;
    /** A valid body per endpoint, the seed of its mutations. */
    private static final Map<String, String> VALID = Map.of(
            "/v1/search", "{\"query\":\"wind turbine inspection\",\"k\":3,\"mode\":\"hybrid\",\"filter\":{\"site\":\"farm\"}}",
            "/v1/query", "{\"query\":\"how are turbine blades inspected?\",\"k\":2,\"history\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                    + "\"device\":{\"batteryPct\":80,\"network\":{\"type\":\"wifi\",\"rttMs\":20}}}",
            "/v1/offload/decide", "{\"query\":{\"text\":\"explain the waggle dance\"},\"device\":{\"batteryPct\":40,"
                    + "\"thermal\":\"nominal\",\"network\":{\"type\":\"lte\",\"rttMs\":60}}}",
            "/v1/documents", "{\"documents\":[{\"id\":\"fuzz-1\",\"title\":\"Bees\",\"text\":\"Honey bees dance.\","
                    + "\"metadata\":{\"site\":\"hive\"}}]}",
            "/v1/capacity/plan", "{\"fleetSize\":100,\"queriesPerDevicePerHour\":6}",
            "/v1/chat/completions", "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":16}",
            "/v1/embeddings", "{\"model\":\"bge-small-en-v1.5-q\",\"input\":[\"a\",\"b\"]}");
    private static final String[] INSERTS = {"{", "}", "[", "]", "\"", ",", ":", "0", "-1", "1e999", "null", "true",
            "\\", "\\u0000", "\u00e9", "\ud83d\ude00", " ", "\"x\":1,", "{\"a\":[", "\u0000"};
    private static final String[] VALUES = {"null", "[]", "{}", "\"\"", "-1", "0", "1.5", "1e308", "true", "\"x\"",
            "[null]", "{\"\":null}", "99999999999999999999"};

    @TestHTTPResource("/")
    URL root;
    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
    }

    @Test
    void noBodyGetsA5xxAndEveryRefusalSaysWhy() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        Random random = new Random(SEED);
        List<String> failures = new ArrayList<>();
        int sent = 0;
        for (var endpoint : VALID.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            for (int i = 0; i < PER_ENDPOINT; i++) {
                String body = mutate(endpoint.getValue(), random);
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(root.toString()).resolve(endpoint.getKey()))
                        .timeout(Duration.ofSeconds(60))
                        .header("Authorization", TestKeys.bearer(TestKeys.DEFAULT_DEVICE))
                        .header("Content-Type", "application/json").header("Accept", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                sent++;
                String type = r.headers().firstValue("Content-Type").orElse("");
                boolean openAi = endpoint.getKey().equals("/v1/chat/completions");
                if (r.statusCode() >= 500) {
                    failures.add(endpoint.getKey() + " " + r.statusCode() + " for " + body + " -> " + r.body());
                } else if (r.statusCode() >= 400 && r.statusCode() != 429
                        && (r.body().isBlank() || !(openAi ? r.body().contains("\"error\"") : type.startsWith(Problem.MEDIA_TYPE)))) {
                    failures.add(endpoint.getKey() + " " + r.statusCode() + " [" + type + "] without its error shape for "
                            + body + " -> " + r.body());
                }
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + sent + " bodies");
    }

    /** The fuzzer's first find (a 500 from a null filter value on search; the query path had it too). */
    @Test
    void aNullFilterValueIsRefusedByName() {
        for (String path : List.of("/v1/search", "/v1/query")) {
            TestKeys.given().contentType(io.restassured.http.ContentType.JSON).accept(io.restassured.http.ContentType.JSON)
                    .body("{\"query\":\"turbines\",\"filter\":{\"site\":null}}").post(path)
                    .then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                    .body("errors[0].field", org.hamcrest.Matchers.equalTo("filter.site"));
        }
    }

    /** One to three edits of a valid body: a character in or out, a value of another type, a cut, a repeat. */
    static String mutate(String valid, Random random) {
        String s = valid;
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = random.nextInt(s.length() + 1);
            switch (random.nextInt(7)) {
                case 0 -> s = s.substring(0, Math.min(at, s.length() - 1)) + s.substring(Math.min(at + 1, s.length()));
                case 1 -> s = s.substring(0, at) + INSERTS[random.nextInt(INSERTS.length)] + s.substring(at);
                case 2 -> s = replaceAValue(s, random);
                case 3 -> s = s.substring(0, at);
                case 4 -> {
                    int to = Math.min(s.length(), at + 1 + random.nextInt(12));
                    s = s.substring(0, to) + s.substring(at, to) + s.substring(to);
                }
                case 5 -> s = s.replaceFirst("\\{", "{\"" + pickKey(s, random) + "\":" + VALUES[random.nextInt(VALUES.length)] + ",");
                default -> s = "[".repeat(random.nextInt(3) == 0 ? 2000 : 1 + random.nextInt(5)) + s;
            }
            if (s.isEmpty()) {
                s = "{";
            }
        }
        return s;
    }

    private static String replaceAValue(String s, Random random) {
        List<int[]> values = new ArrayList<>();
        var m = java.util.regex.Pattern.compile(":(\"[^\"]*\"|-?[0-9.]+|true|false|null)").matcher(s);
        while (m.find()) {
            values.add(new int[]{m.start(1), m.end(1)});
        }
        if (values.isEmpty()) {
            return s;
        }
        int[] v = values.get(random.nextInt(values.size()));
        return s.substring(0, v[0]) + VALUES[random.nextInt(VALUES.length)] + s.substring(v[1]);
    }

    private static String pickKey(String s, Random random) {
        List<String> keys = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("\"([A-Za-z_]+)\":").matcher(s);
        while (m.find()) {
            keys.add(m.group(1));
        }
        return keys.isEmpty() ? "x" : keys.get(random.nextInt(keys.size()));
    }
}
