package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRequest;
import dev.offload.gateway.privacy.Sensitivity;
import io.smallrye.mutiny.Multi;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateStageTest {
    private final List<GenerationRequest> sent = new ArrayList<>();
    private final GenerateStage stage = new GenerateStage(r -> {
        sent.add(r);
        return Multi.createFrom().item(new GenerationEvent.Token("x"));
    }, Duration.ofSeconds(60));
    private final AdmitStage admit = new AdmitStage(StageFixtures.QUERY, StageFixtures.RETRIEVAL, StageFixtures.GENERATION,
            t -> Sensitivity.INTERNAL, StageFixtures::tiers, (tiers, d) -> null,
            StageFixtures.cache(new java.util.concurrent.atomic.AtomicLong()), () -> 1_000L);

    private QueryContext protectedQuery(Long budget, List<String> chunkIds) {
        QueryContext c = admit.begin("acme", StageFixtures.query("q", null, budget, null), null);
        c.level = Sensitivity.CONFIDENTIAL;
        c.tierOrder = List.of("edge", "cloud");
        c.hits = List.of(StageFixtures.chunk("d", "text", null));
        List<PromptBuilder.Chunk> chunks = chunkIds.stream().map(id -> new PromptBuilder.Chunk(id, "t", "text", 1)).toList();
        c.prompt = new PromptBuilder("sys", "Context:", 1).build("q", List.of(), chunks, 1000);
        return c;
    }

    @Test
    void theRequestCarriesTheEffectiveLevelEveryTierTheDeadlineAndAPrefixAffinity() {
        GenerationRequest r = stage.request(protectedQuery(250L, List.of("d#0")));
        assertEquals(Sensitivity.CONFIDENTIAL, r.sensitivity(), "the egress gate applies what retrieval found");
        assertEquals(List.of("edge", "cloud"), r.tiers());
        assertEquals(1_000L + TimeUnit.MILLISECONDS.toNanos(250), r.deadlineNanos());
        assertEquals(Integer.toHexString(List.of("d#0").hashCode()), r.affinityKey());
        assertEquals("d", r.fallbackSources().get().get(0).documentId());
        assertEquals("acme", r.tenant());
        GenerationRequest noContext = stage.request(protectedQuery(null, List.of()));
        assertNull(noContext.affinityKey());
        assertEquals(1_000L + TimeUnit.SECONDS.toNanos(60), noContext.deadlineNanos(), "the default deadline");
    }

    @Test
    void nothingIsSentUntilTheAnswerIsSubscribed() {
        Multi<GenerationEvent> m = stage.stream(protectedQuery(null, List.of()));
        assertTrue(sent.isEmpty());
        m.collect().asList().await().indefinitely();
        assertEquals(1, sent.size());
    }
}
