package dev.offload.gateway.pipeline;

import dev.offload.gateway.privacy.Sensitivity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtectStageTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ProtectStage stage = new ProtectStage(t -> Sensitivity.INTERNAL, "sensitivity", StageFixtures::tiers,
            StageFixtures::window, new PromptBuilder("sys", "Context:", 1), registry);
    private final AdmitStage admit = new AdmitStage(StageFixtures.QUERY, StageFixtures.RETRIEVAL, StageFixtures.GENERATION,
            t -> Sensitivity.INTERNAL, StageFixtures::tiers, (tiers, d) -> null, StageFixtures.cache(new java.util.concurrent.atomic.AtomicLong()),
            System::nanoTime);

    private QueryContext retrieved(String... labels) {
        QueryContext c = admit.begin("t", StageFixtures.query("what is the torque"), null);
        java.util.ArrayList<dev.offload.gateway.retrieval.IndexRecords.ChunkHit> hits = new java.util.ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            hits.add(StageFixtures.chunk("d" + i, "torque is 45 Nm", labels[i]));
        }
        c.hits = hits;
        return c;
    }

    @Test
    void theEffectiveLevelIsTheHighestOfTheQueryAndEveryChunkAndAnUnreadableLabelIsRestricted() {
        QueryContext c = retrieved("public", null, "confidential");
        stage.apply(c);
        assertEquals(Sensitivity.CONFIDENTIAL, c.level);
        QueryContext odd = retrieved("public", "top-secret");
        stage.apply(odd);
        assertEquals(Sensitivity.RESTRICTED, odd.level);
        assertEquals(1.0, registry.counter("gateway.privacy.refusals", "sensitivity", "restricted", "reason", "restricted").count());
    }

    @Test
    void everyTierStaysInOrderAndTheWindowIsTheSmallestTheLevelMayReach() {
        QueryContext internal = retrieved("internal");
        stage.apply(internal);
        assertEquals(List.of("edge", "cloud"), internal.tierOrder, "the generator's gate decides what leaves, not this stage");
        QueryContext confidential = retrieved("confidential");
        stage.apply(confidential);
        assertEquals(List.of("edge", "cloud"), confidential.tierOrder);
        assertTrue(confidential.prompt.messages().get(0).content().contains("torque is 45 Nm"), "the chunk is quoted");
        assertEquals(List.of("d0#0"), confidential.prompt.chunkIds());
    }
}
