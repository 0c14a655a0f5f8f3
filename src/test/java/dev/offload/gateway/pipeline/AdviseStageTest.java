package dev.offload.gateway.pipeline;

import dev.offload.gateway.offload.policy.GatewayView;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.privacy.Sensitivity;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdviseStageTest {
    private final List<OffloadPolicy.Input> inputs = new ArrayList<>();
    private OffloadHint.Target target = OffloadHint.Target.EDGE;
    private final AdviseStage stage = new AdviseStage(in -> {
        inputs.add(in);
        return new OffloadHint(target, List.of(), null, 1000, null, null);
    }, (text, vector) -> 0.25, cacheHit -> new GatewayView(null, null, cacheHit), () -> Optional.of("cloud"));
    private final AdmitStage admit = new AdmitStage(StageFixtures.QUERY, StageFixtures.RETRIEVAL, StageFixtures.GENERATION,
            t -> Sensitivity.INTERNAL, StageFixtures::tiers, (tiers, d) -> null,
            StageFixtures.cache(new java.util.concurrent.atomic.AtomicLong()), System::nanoTime);

    @Test
    void theHintIsDecidedOnceFromTheQueryAsItStands() {
        QueryContext c = admit.begin("t", StageFixtures.query("q", null, 800L, null), null);
        c.level = Sensitivity.CONFIDENTIAL;
        OffloadHint first = stage.decide(c);
        assertSame(first, stage.decide(c));
        assertEquals(1, inputs.size(), "one decision per query");
        assertEquals(dev.offload.gateway.offload.policy.Sensitivity.CONFIDENTIAL, inputs.get(0).sensitivity(), "the effective level, not only the stated one");
        assertEquals(800L, inputs.get(0).latencyBudgetMs());
        assertFalse(inputs.get(0).gateway().cacheHit());
        assertEquals(null, inputs.get(0).localQuality(), "no embedding yet (an early refusal): no estimate");

        QueryContext embedded = admit.begin("t", StageFixtures.query("q"), null);
        embedded.vector = new float[]{1, 0};
        embedded.level = Sensitivity.INTERNAL;
        stage.decide(embedded);
        assertEquals(0.25, inputs.get(1).localQuality(), "the router reads the embedding retrieval computed");
    }

    @Test
    void aCloudHintPutsTheFirstTierOutsideTheEdgeZoneFirst() {
        target = OffloadHint.Target.CLOUD;
        QueryContext c = admit.begin("t", StageFixtures.query("q"), null);
        c.tierOrder = List.of("neighbour", "edge", "cloud");
        stage.decide(c);
        stage.order(c);
        assertEquals(List.of("cloud", "neighbour", "edge"), c.tierOrder);
    }

    @Test
    void restrictedDataAndTheDevicesOwnChoiceMeanNoGeneration() {
        target = OffloadHint.Target.LOCAL;
        QueryContext unlessLocal = admit.begin("t", StageFixtures.query("q", null, null, Query.Generate.UNLESS_LOCAL), null);
        unlessLocal.level = Sensitivity.INTERNAL;
        stage.decide(unlessLocal);
        assertFalse(AdviseStage.generates(unlessLocal));
        QueryContext restricted = admit.begin("t", StageFixtures.query("q"), null);
        restricted.level = Sensitivity.RESTRICTED;
        stage.decide(restricted);
        assertFalse(AdviseStage.generates(restricted));
        QueryContext always = admit.begin("t", StageFixtures.query("q"), null);
        always.level = Sensitivity.INTERNAL;
        stage.decide(always);
        assertTrue(AdviseStage.generates(always), "LOCAL is advice; a device that sent its query gets an answer");
    }
}
