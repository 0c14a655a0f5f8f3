package dev.offload.gateway.api;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.offload.policy.GatewayView;
import dev.offload.gateway.offload.OffloadConfig;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.pipeline.PromptBuilder;
import dev.offload.gateway.pipeline.Query;
import dev.offload.gateway.retrieval.InvalidRequestException;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the request parsers with arbitrary bytes: every body either parses into a valid
 * request or is refused with a parse error or a field-level {@link InvalidRequestException}
 * (a 400); nothing else may escape (that would be a 500). Seeds under
 * {@code RequestParsingFuzzTestInputs/} replay as regression tests in every build.
 */
class RequestParsingFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final OffloadPolicy POLICY = new OffloadPolicy(dev.offload.gateway.offload.OffloadAdvisor.settingsOf(new SmallRyeConfigBuilder()
            .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
            .withMapping(OffloadConfig.class).build().getConfigMapping(OffloadConfig.class)));
    private static final GatewayView GATEWAY = new GatewayView(
            new GatewayView.TierView(new dev.offload.gateway.offload.policy.TierState("edge", false, 2, 2, 16, 3, 0, 256, 0, 180, 40, 2000), 8192, 10_000),
            new GatewayView.TierView(new dev.offload.gateway.offload.policy.TierState("cloud", true, 1, 1, 32, 0, 0, 256, 0, 600, 70, 3000), 32768, 10_000),
            false);

    @FuzzTest(maxDuration = "60s")
    void queryBodies(byte[] body) {
        try {
            Query q = QueryApi.toQuery(JSON.readValue(body, QueryApi.QueryRequest.class));
            assertNotNull(q.history());
            assertNotNull(q.device());
        } catch (IOException | InvalidRequestException expected) {
            // a 400: parse errors, and bytes Jackson cannot even decode (e.g. mis-detected UTF-32)
        }
    }

    @FuzzTest(maxDuration = "60s")
    void decideBodies(byte[] body) {
        QueryApi.DecideRequest r;
        try {
            r = JSON.readValue(body, QueryApi.DecideRequest.class);
        } catch (IOException expected) {
            return;
        }
        if (r == null || r.query() == null || r.query().text() == null) {
            return; // the resource answers 400 before the policy runs
        }
        try {
            OffloadHint h = POLICY.decide(new OffloadPolicy.Input(QueryApi.device(r.device()), r.query().text(),
                    r.query().historyTokens() == null ? 0 : Math.max(0, r.query().historyTokens()), 1000,
                    dev.offload.gateway.offload.OffloadAdvisor.level(QueryApi.sensitivity("query.sensitivity", r.query().sensitivity())),
                    r.latencyBudgetMs() == null || r.latencyBudgetMs() < 1 ? null : r.latencyBudgetMs(), GATEWAY));
            assertNotNull(h.target());
            assertTrue(h.validForMs() > 0);
        } catch (InvalidRequestException expected) {
            // a 400 naming the field
        }
    }

    @FuzzTest(maxDuration = "60s")
    void chatBodies(byte[] body) {
        ChatCompletions.Request r;
        try {
            r = JSON.readValue(body, ChatCompletions.Request.class);
        } catch (IOException expected) {
            return;
        }
        if (r != null && r.messages() != null) {
            for (ChatCompletions.Message m : r.messages()) {
                if (m != null) {
                    m.text(); // text or null (a 400), never an exception
                }
            }
        }
    }

    /** Retrieved text cannot close its {@code <source>} frame or open a new one. */
    @FuzzTest(maxDuration = "60s")
    void retrievedTextStaysFramed(byte[] raw) {
        String text = new String(raw, java.nio.charset.StandardCharsets.UTF_8);
        PromptBuilder b = new PromptBuilder("system", "Sources:", 1);
        var p = b.build("q", List.of(), List.of(new PromptBuilder.Chunk("c1", text, text, 1.0),
                new PromptBuilder.Chunk("c2", "t", text, 0.5)), 1_000_000);
        String system = p.messages().get(0).content();
        assertEquals(2, count(system, "</source>"), system);
        assertEquals(2, count(system, "<source "), system);
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
